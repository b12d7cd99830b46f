#!/usr/bin/env python3
"""dovecot-callgrind.py - instructions per LMTP delivery and per IMAP login of a
private Dovecot (2.3 or 2.4, whichever is installed where it runs) on 127.0.0.1,
counting EVERY Dovecot process (master, auth, log, config, anvil, stats, lmtp,
imap-login, imap, ...): the whole instance runs under valgrind's callgrind with
--trace-children=yes. Two modes:

  stock  mail location and home from the configuration and passwd-file
         (mail_location = maildir:~/Maildir, 2.4 mail_driver/mail_path)
  auth   no mail location and no home in the configuration: the userdb chain
         passwd-file (result_success = continue-ok) + mailwarren's userdb
         "mailshard" (libauthdb_mailshard.so) returns them; three volumes, one
         of weight 2; no mail plugin

Instance start-up and shutdown cost the same whatever the load, so each mode runs
three fresh instances: a base load (B deliveries, L logins), B+DB deliveries, and
L+DL logins; instructions per delivery = (run2 - base) / DB, per login = (run3 -
base) / DL. The auth module (and on 2.4 mailwarren's settings module) are bound
over Dovecot's fixed module directories in a private mount namespace; nothing
outside changes. Run as root. Loopback only; every loop is bounded.

  dovecot-callgrind.py --authmod .../libauthdb_mailshard.so
                       [--settings-module .../libmailwarren_settings.so] (2.4)
                       [--base-msgs 30] [--msgs 120] [--base-logins 10] [--logins 40]
                       [--workdir /tmp/dovecot-callgrind] [--keep] [--json FILE]
"""
import argparse, importlib.util, json, os, shutil
import subprocess, sys, threading, time

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("dovecot_bench", os.path.join(HERE, "dovecot-bench.py"))
db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(db)

UID = db.UID
MODDIR = "/usr/lib/dovecot/modules"


def dovecot_minor():
    v = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout
    return int(v.split(".")[1])


def conf(v24, mode, T, ports):
    vols = f"v1={T}/srv/v1 v2={T}/srv/v2:2 v3={T}/srv/v3"
    if v24:
        head = ("dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n"
                "auth_allow_cleartext = yes\nauth_username_format = %{user | lower | username}\n")
        if mode == "stock":
            mail = "mail_driver = maildir\nmail_path = ~/Maildir\n"
            auth = (f"passdb passwd-file {{\n  passwd_file_path = {T}/users\n}}\n"
                    f"userdb passwd-file {{\n  passwd_file_path = {T}/users\n}}\n")
        else:
            mail = ""
            auth = (f"passdb passwd-file {{\n  passwd_file_path = {T}/users\n}}\n"
                    f"userdb passwd-file {{\n  passwd_file_path = {T}/users\n"
                    f"  result_success = continue-ok\n}}\n"
                    f"userdb mailshard {{\n  mailshard_volumes = {vols}\n}}\n")
        listen = "listen"
    else:
        head = "disable_plaintext_auth = no\nauth_username_format = %Ln\n"
        if mode == "stock":
            mail = "mail_location = maildir:~/Maildir\n"
            auth = (f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {T}/users\n}}\n"
                    f"userdb {{\n  driver = passwd-file\n  args = {T}/users\n}}\n")
        else:
            mail = "mail_location =\n"
            auth = (f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {T}/users\n}}\n"
                    f"userdb {{\n  driver = passwd-file\n  args = {T}/users\n"
                    f"  result_success = continue-ok\n}}\n"
                    f"userdb {{\n  driver = mailshard\n  args = volumes=\"{vols}\"\n}}\n")
        listen = "address"
    return f"""{head}instance_name = dovecot-callgrind-{os.path.basename(T)}-{os.getpid()}
base_dir = {T}/run
state_dir = {T}/state
log_path = {T}/dovecot.log
listen = 127.0.0.1
protocols = imap lmtp
ssl = no
auth_mechanisms = plain
lda_mailbox_autocreate = yes
{mail}{auth}namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    {listen} = 127.0.0.1
    port = {ports['imap']}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    {listen} = 127.0.0.1
    port = {ports['lmtp']}
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
# callgrind writes each profile to an absolute path: no chroot (both modes)
service imap-login {{
  chroot =
}}
service anvil {{
  chroot =
}}
"""


def overlay(T, a):
    """module dirs to bind: {system dir: our copy}"""
    binds = {}
    wanted = {"auth": [a.authmod]}
    if a.settings_module:
        wanted["settings"] = [a.settings_module]
    for sub, sos in wanted.items():
        d = f"{T}/overlay/{sub}"
        os.makedirs(d)
        if os.path.isdir(f"{MODDIR}/{sub}"):
            for f in os.listdir(f"{MODDIR}/{sub}"):
                shutil.copy2(f"{MODDIR}/{sub}/{f}", d)
        for so in sos:
            shutil.copy(so, d)
        binds[f"{MODDIR}/{sub}"] = d
    return binds


def unshare_opts():
    """private propagation; in a chroot whose root is no mount point (the Debian 13
    test chroot) that fails, and with no shared mount at all nothing can propagate
    back, so unchanged is as private (as tests/lib/dovecot.sh does)"""
    if subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0:
        return ["--propagation", "private"]
    # only the mounts holding the module directory matter (the binds go below it)
    for line in open("/proc/self/mountinfo"):
        f = line.split()
        mp = f[4] if f[4] == "/" else f[4] + "/"
        if (MODDIR + "/").startswith(mp) and any(x.startswith("shared:") for x in f[6:f.index("-")]):
            sys.exit("unshare -m cannot make the mounts private here")
    return ["--propagation", "unchanged"]


def ns_cmd(binds, cmd):
    script = "".join(f'mount --bind "{src}" "{dst}" || exit 71\n' for dst, src in binds.items())
    return ["unshare", "-m"] + unshare_opts() + ["sh", "-c", script + 'exec "$@"', "sh"] + cmd


def totals(out):
    """{process command: instructions} over every callgrind file in out"""
    by = {}
    for f in os.listdir(out):
        cmd, total = "?", 0
        for line in open(os.path.join(out, f), errors="replace"):
            if line.startswith("cmd:"):
                cmd = os.path.basename(line.split()[1])
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
                break
        by[cmd] = by.get(cmd, 0) + total
    return by


def one_run(mode, tag, msgs, logins, a, v24):
    T = os.path.join(a.workdir, f"{mode}-{tag}")
    shutil.rmtree(T, ignore_errors=True)
    os.makedirs(T)
    os.chmod(T, 0o755)
    users = [f"user{i:03d}" for i in range(a.users)]
    with open(T + "/users", "w") as f:
        for u in users:
            home = f"{T}/home/{u}" if mode == "stock" else ""
            f.write(f"{u}:{{PLAIN}}pw:{UID}:{UID}::{home}::\n")
    os.makedirs(T + "/home")
    shutil.chown(T + "/home", UID, UID)
    for v in ("v1", "v2", "v3"):
        os.makedirs(f"{T}/srv/{v}")
        open(f"{T}/srv/{v}/.mailshard-volume", "w").close()
        shutil.chown(f"{T}/srv/{v}", UID, UID)
    ports = {"imap": db.free_port(), "lmtp": db.free_port()}
    with open(T + "/dovecot.conf", "w") as f:
        f.write(conf(v24, mode, T, ports))
    binds = overlay(T, a)
    out = T + "/callgrind"
    os.makedirs(out)
    os.chmod(out, 0o1777)
    # each process's profile is created when it starts (by whoever it is then)
    # and written when it exits (by whoever it has become): open them to all
    done = threading.Event()

    def opener():
        while not done.wait(0.02):
            for f in os.listdir(out):
                p = os.path.join(out, f)
                try:
                    if os.stat(p).st_mode & 0o777 != 0o666:
                        os.chmod(p, 0o666)
                except OSError:
                    pass
    th = threading.Thread(target=opener, daemon=True)
    th.start()
    vg = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--dump-line=no",
          f"--callgrind-out-file={out}/cg.%p", "dovecot", "-c", T + "/dovecot.conf"]
    with open(T + "/start.err", "w") as err:
        r = subprocess.run(ns_cmd(binds, vg), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=err)
    if r.returncode != 0:
        sys.exit("dovecot did not start: " + open(T + "/start.err").read()[-800:])
    for _ in range(600):
        try:
            db.socket.create_connection(("127.0.0.1", ports["lmtp"]), timeout=1).close()
            db.socket.create_connection(("127.0.0.1", ports["imap"]), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        sys.exit("dovecot did not listen")
    try:
        # one client, in this process: the counts do not need concurrency
        lbad = db.lmtp_worker((ports["lmtp"], range(msgs), users))
        ibad = db.imap_worker((ports["imap"], range(logins), users))
    finally:
        pid = int(open(T + "/run/master.pid").read())
        subprocess.run(["doveadm", "-c", T + "/dovecot.conf", "stop"], capture_output=True)
        for _ in range(1200):   # valgrind'd processes exit slowly
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        time.sleep(3)   # children write their profiles as they go
        done.set()
        th.join()
    if lbad or ibad:
        sys.exit(f"{mode}-{tag}: {lbad} deliveries and {ibad} logins failed; see {T}/dovecot.log")
    by = totals(out)
    if not a.keep:
        shutil.rmtree(T, ignore_errors=True)
    return by


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--authmod", required=True)
    ap.add_argument("--settings-module")
    ap.add_argument("--base-msgs", type=int, default=30)
    ap.add_argument("--msgs", type=int, default=120, help="deliveries added in the second run")
    ap.add_argument("--base-logins", type=int, default=10)
    ap.add_argument("--logins", type=int, default=40, help="logins added in the third run")
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--workdir", default="/tmp/dovecot-callgrind")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.authmod = os.path.abspath(a.authmod)
    if a.settings_module:
        a.settings_module = os.path.abspath(a.settings_module)
    v24 = dovecot_minor() >= 4
    if v24 and not a.settings_module:
        sys.exit("Dovecot 2.4: --settings-module libmailwarren_settings.so is needed")
    os.makedirs(a.workdir, exist_ok=True)
    res = {}
    if True:
        for mode in ("stock", "auth"):
            base = one_run(mode, "base", a.base_msgs, a.base_logins, a, v24)
            more_l = one_run(mode, "lmtp", a.base_msgs + a.msgs, a.base_logins, a, v24)
            more_i = one_run(mode, "imap", a.base_msgs, a.base_logins + a.logins, a, v24)
            names = set(base) | set(more_l) | set(more_i)
            per_l = {n: (more_l.get(n, 0) - base.get(n, 0)) / a.msgs for n in names}
            per_i = {n: (more_i.get(n, 0) - base.get(n, 0)) / a.logins for n in names}
            res[mode] = {"delivery": sum(per_l.values()), "login": sum(per_i.values()),
                         "delivery_by": per_l, "login_by": per_i}
            print(f"{mode:5s}: {res[mode]['delivery']:,.0f} instructions/LMTP delivery, "
                  f"{res[mode]['login']:,.0f} instructions/IMAP login (all processes)", flush=True)
            for what in ("delivery", "login"):
                by = res[mode][what + "_by"]
                print(f"       {what} by process: " + ", ".join(
                    f"{n} {v:,.0f}" for n, v in sorted(by.items(), key=lambda x: -abs(x[1]))
                    if abs(v) >= 1000), flush=True)
    print("stock/auth: delivery %.1f%%, login %.1f%% (auth placement costs %.1f%% and %.1f%% "
          "of stock's instructions)" % (
              100 * res["stock"]["delivery"] / res["auth"]["delivery"],
              100 * res["stock"]["login"] / res["auth"]["login"],
              100 * (res["auth"]["delivery"] / res["stock"]["delivery"] - 1),
              100 * (res["auth"]["login"] / res["stock"]["login"] - 1)))
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"dovecot": subprocess.run(["dovecot", "--version"], capture_output=True,
                                                         text=True).stdout.strip(), **res}) + "\n")


if __name__ == "__main__":
    main()
