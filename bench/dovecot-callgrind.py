#!/usr/bin/env python3
"""dovecot-callgrind.py - instructions per LMTP delivery and per IMAP login of a
private Dovecot (2.3 or 2.4, whichever is installed where it runs) on 127.0.0.1,
counting EVERY Dovecot process (master, auth, log, config, anvil, stats, lmtp,
imap-login, imap, ...): the whole instance runs under valgrind's callgrind with
--trace-children=yes. What is compared - both give every user a home and a
mail location, with the same passdb, users, mail and clients:

  stock  Dovecot alone, as a site without mailwarren runs it: passwd-file
         passdb and userdb, the home in each user's passwd-file line, the mail
         location in the configuration (2.3 mail_location = maildir:~/Maildir,
         2.4 mail_driver = maildir, mail_path = ~/Maildir)
  auth   mailwarren's placement in the auth process: no home in passwd-file
         and no mail location in the configuration; the userdb chain
         passwd-file (result_success = continue-ok) + mailwarren's userdb
         "mailshard" (libauthdb_mailshard.so), which returns home and mail
         location (2.3 mail, 2.4 mail_driver + mail_path) from the placement
         over three volumes (one of weight 2) after stat()ing the volume's
         marker; no mail plugin
  stock2 (--aa) stock again: its difference from stock is the A/A band
  stock-loc (--stock-loc) stock whose passwd-file also returns each user's
         mail location (2.3 userdb_mail, 2.4 userdb_mail_driver and
         userdb_mail_path), the same path: what the mail processes pay for a
         per-user location from any userdb (LDAP, SQL, ...), informational

Instance start-up and shutdown cost the same whatever the load, so each mode runs
three fresh instances: a base load (B deliveries, L logins), B+DB deliveries, and
L+DL logins; instructions per delivery = (run2 - base) / DB, per login = (run3 -
base) / DL. Processes whose work follows the clock, not the load (log, stats,
anvil, master timers) and process start-ups that fall differently make the A/A
band. --functions N says where auth's extra instructions go: the auth module's
own code (inclusive), each process and object, and the N functions whose
exclusive costs differ most. The auth module (and on 2.4 mailwarren's settings
module) are bound over Dovecot's fixed module directories in a private mount
namespace; nothing outside changes. Run as root. Loopback only; every loop is
bounded. Target (issue 15): stock/auth >= 99% for both.

usage: dovecot-callgrind.py --authmod .../libauthdb_mailshard.so
                       [--settings-module .../libmailwarren_settings.so] (2.4)
                       [--base-msgs 30] [--msgs 120] [--base-logins 10] [--logins 40]
                       [--aa] [--stock-loc] [--functions N]
                       [--workdir /tmp/dovecot-callgrind] [--keep] [--json FILE]
  e.g. on the Debian 12 host after a build in _build:
    bench/dovecot-callgrind.py --authmod _build/plugins/auth/.libs/libauthdb_mailshard.so --aa
  and in the Debian 13 chroot after a build in _build24:
    bench/dovecot-callgrind.py --authmod _build24/plugins/auth/.libs/libauthdb_mailshard.so \\
        --settings-module _build24/plugins/common/.libs/libmailwarren_settings.so --aa
"""
import argparse, importlib.util, json, os, re, shutil, signal
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
        if mode != "auth":
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
        if mode != "auth":
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
        cmd, total = "?", None
        for line in open(os.path.join(out, f), errors="replace"):
            if line.startswith("cmd:"):
                cmd = os.path.basename(line.split()[1])
            elif line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
                break
        if total is None:
            sys.exit(f"{out}/{f} ({cmd}): no summary, the process did not finish")
        by[cmd] = by.get(cmd, 0) + total
    return by


MODULE = "libauthdb_mailshard.so"
INCL = "(inclusive)"


def functions(out):
    """{(process, object:function): exclusive instructions} over every callgrind
    file in out (callgrind's format with name compression: a cost line right
    after calls= is the callee's inclusive cost, not the caller's own), plus
    (process, MODULE + INCL): the auth module's own code with everything it
    calls (Dovecot's API, libc), less its calls back into Dovecot's userdb
    chain (auth_request_userdb_callback: the next userdb, the reply)"""
    by = {}
    for f in os.listdir(out):
        names = {"ob": {}, "fn": {}}
        cmd, ob, fn, cob, cfn, call = "?", "?", "?", "?", "?", False
        for line in open(os.path.join(out, f), errors="replace"):
            c = line[:1]
            if c.isdigit() or c in "+-*":
                parts = line.split()
                if len(parts) < 2:
                    continue
                v = int(parts[1])
                if call:
                    call = False
                    if (ob == MODULE and cob != MODULE and
                            not cfn.startswith("auth_request_userdb_callback")):
                        k = (cmd, MODULE + INCL)
                        by[k] = by.get(k, 0) + v
                    cob = ob
                    continue
                k = (cmd, ob + ":" + fn)
                by[k] = by.get(k, 0) + v
                if ob == MODULE:
                    k = (cmd, MODULE + INCL)
                    by[k] = by.get(k, 0) + v
                continue
            if line.startswith("calls="):
                call = True
                continue
            key, _, val = line.rstrip("\n").partition("=")
            if key in ("ob", "fn", "cob", "cfn"):
                kind = key[-2:]
                m = re.match(r"\((\d+)\)(?: (.*))?$", val)
                if m:
                    name = m.group(2)
                    if name is not None:
                        names[kind][m.group(1)] = name
                    else:
                        name = names[kind].get(m.group(1), "?")
                else:
                    name = val
                if kind == "ob":
                    name = os.path.basename(name)
                if key == "ob":
                    ob = cob = name
                elif key == "fn":
                    fn = name
                elif key == "cob":
                    cob = name
                else:
                    cfn = name
            elif line.startswith("cmd:"):
                cmd = os.path.basename(line.split()[1])
    return by


def one_run(mode, tag, msgs, logins, a, v24):
    T = os.path.join(a.workdir, f"{mode}-{tag}")
    shutil.rmtree(T, ignore_errors=True)
    os.makedirs(T)
    os.chmod(T, 0o755)
    users = [f"user{i:03d}" for i in range(a.users)]
    with open(T + "/users", "w") as f:
        for u in users:
            home = f"{T}/home/{u}" if mode != "auth" else ""
            extra = ""
            if mode == "stock-loc":
                extra = (f"userdb_mail_driver=maildir userdb_mail_path={home}/Maildir" if v24
                         else f"userdb_mail=maildir:{home}/Maildir")
            f.write(f"{u}:{{PLAIN}}pw:{UID}:{UID}::{home}::{extra}\n")
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
        # SIGTERM to the master, as "doveadm stop" sends it: doveadm itself
        # would read the configuration outside the private mount namespace,
        # where on 2.4 the mailshard settings are unknown, and fail
        pid = int(open(T + "/run/master.pid").read())
        os.kill(pid, signal.SIGTERM)
        for _ in range(1200):   # valgrind'd processes exit slowly
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.1)
        else:
            sys.exit(f"{mode}-{tag}: the master (pid {pid}) did not stop in 120 s")
        time.sleep(3)   # children write their profiles as they go
        done.set()
        th.join()
    if lbad or ibad:
        sys.exit(f"{mode}-{tag}: {lbad} deliveries and {ibad} logins failed; see {T}/dovecot.log")
    by = totals(out)
    # a process still running has written no profile: its instructions
    # would be missing from this run and the differences meaningless
    missing = {"dovecot", "log", "config", "auth", "lmtp", "imap", "imap-login"} - set(by)
    if missing:
        sys.exit(f"{mode}-{tag}: no profile from {', '.join(sorted(missing))}; see {T}")
    fns = functions(out) if a.functions else {}
    if not a.keep:
        shutil.rmtree(T, ignore_errors=True)
    return by, fns


def per_op(run, base, n):
    return {k: (run.get(k, 0) - base.get(k, 0)) / n for k in set(run) | set(base)}


def print_functions(res, what, top, base="stock", other="auth"):
    """where auth's extra instructions per operation go: the auth module's
    own share, by process and object, then the functions that differ most
    (exclusive costs)"""
    st, au = res[base][what + "_fn"], res[other][what + "_fn"]
    diff = {k: au.get(k, 0) - st.get(k, 0) for k in set(st) | set(au)}
    mod = {k: v for k, v in diff.items() if k[1] == MODULE + INCL}
    for k in mod:
        del diff[k]
    print(f"{other} - {base} per {what}: {sum(diff.values()):+,.0f} instructions")
    for (proc, _), v in mod.items():
        print(f"  {v:+12,.0f}  {proc:10s} of it: {MODULE}, inclusive (what it calls, "
              "less its callback into the userdb chain)")
    print("  by process and object:")
    objs = {}
    for (proc, fn), v in diff.items():
        k = (proc, fn.split(":", 1)[0])
        objs[k] = objs.get(k, 0) + v
    for (proc, ob), v in sorted(objs.items(), key=lambda x: -abs(x[1])):
        if abs(v) >= 500:
            print(f"  {v:+12,.0f}  {proc:10s} {ob}")
    print(f"  functions (exclusive, top {top}):")
    for (proc, fn), v in sorted(diff.items(), key=lambda x: -abs(x[1]))[:top]:
        print(f"  {v:+12,.0f}  {proc:10s} {fn}  ({base} {st.get((proc, fn), 0):,.0f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
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
    ap.add_argument("--aa", action="store_true",
                    help="run stock a second time (stock2): the A/A band of the figures")
    ap.add_argument("--stock-loc", action="store_true",
                    help="also run stock-loc: stock whose passwd-file returns each user's mail "
                    "location too (what Dovecot costs for a per-user location from any userdb)")
    ap.add_argument("--functions", type=int, default=0, metavar="N",
                    help="also print where auth's extra instructions go: per process and "
                    "object, and the N functions that differ most")
    a = ap.parse_args()
    a.authmod = os.path.abspath(a.authmod)
    if a.settings_module:
        a.settings_module = os.path.abspath(a.settings_module)
    v24 = dovecot_minor() >= 4
    if v24 and not a.settings_module:
        sys.exit("Dovecot 2.4: --settings-module libmailwarren_settings.so is needed")
    os.makedirs(a.workdir, exist_ok=True)
    res, fres = {}, {}
    if True:
        for mode in (("stock", "auth") + (("stock2",) if a.aa else ()) +
                     (("stock-loc",) if a.stock_loc else ())):
            base, base_fn = one_run(mode, "base", a.base_msgs, a.base_logins, a, v24)
            more_l, l_fn = one_run(mode, "lmtp", a.base_msgs + a.msgs, a.base_logins, a, v24)
            more_i, i_fn = one_run(mode, "imap", a.base_msgs, a.base_logins + a.logins, a, v24)
            per_l = per_op(more_l, base, a.msgs)
            per_i = per_op(more_i, base, a.logins)
            res[mode] = {"delivery": sum(per_l.values()), "login": sum(per_i.values()),
                         "delivery_by": per_l, "login_by": per_i}
            if a.functions:
                fres[mode] = {"delivery_fn": per_op(l_fn, base_fn, a.msgs),
                              "login_fn": per_op(i_fn, base_fn, a.logins)}
            print(f"{mode:6s}: {res[mode]['delivery']:,.0f} instructions/LMTP delivery, "
                  f"{res[mode]['login']:,.0f} instructions/IMAP login (all processes)", flush=True)
            for what in ("delivery", "login"):
                by = res[mode][what + "_by"]
                print(f"        {what} by process: " + ", ".join(
                    f"{n} {v:,.0f}" for n, v in sorted(by.items(), key=lambda x: -abs(x[1]))
                    if abs(v) >= 1000), flush=True)
    for what in ("delivery", "login"):
        r = res["auth"][what] / res["stock"][what]
        line = (f"{what}: auth costs {100 * (r - 1):+.2f}% of stock's instructions "
                f"({res['auth'][what] - res['stock'][what]:+,.0f} per {what}), "
                f"stock/auth {100 / r:.2f}%")
        if a.aa:
            q = res["stock2"][what] / res["stock"][what]
            line += (f"; A/A stock2/stock {100 * q:.2f}% "
                     f"({res['stock2'][what] - res['stock'][what]:+,.0f})")
        if a.stock_loc:
            q = res["stock-loc"][what] / res["stock"][what]
            line += (f"; stock-loc/stock {100 * q:.2f}% "
                     f"({res['stock-loc'][what] - res['stock'][what]:+,.0f})")
        line += "; target stock/auth >= 99%:" + (" MET" if res["stock"][what] >= 0.99 * res["auth"][what]
                                                     else " NOT MET")
        print(line)
    if a.functions:
        for what in ("delivery", "login"):
            print_functions(fres, what, a.functions)
            if a.stock_loc:
                print_functions(fres, what, a.functions // 2, other="stock-loc")
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"dovecot": subprocess.run(["dovecot", "--version"], capture_output=True,
                                                         text=True).stdout.strip(), **res}) + "\n")


if __name__ == "__main__":
    main()
