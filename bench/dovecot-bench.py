#!/usr/bin/env python3
"""dovecot-bench.py - LMTP delivery rate and IMAP LOGIN+SELECT+LOGOUT rate of a private
Dovecot 2.3 on 127.0.0.1, stock (mail_location = maildir:~/Maildir, home from the
userdb) versus the same Dovecot with the mailshard + spam_prefs plugins (empty
mail_location, no home in the userdb; three volumes, one of weight 2; spam_prefs
on LMTP with its defaults: junk at 5.0). Normally run through bench/dovecot-bench.sh.

The plugin configuration sets only what the plugins need (mail_plugins and
mailshard_volumes): every plugin {} setting costs each session a few thousand
instructions in Dovecot itself (the config is parsed and each plugin setting is
%-expanded per user), so repeating defaults would be charged to the plugins. Both
modes set mail_plugin_dir (the plugins are loaded from the build tree, which an
installation would not need), the stock one to an empty directory.

Run as root (Dovecot's master setuids to the mail uid 5000). Every run gets a fresh
instance and mail store under WORKDIR/<mode>-<rep>; the instance is stopped with
`doveadm -c ... stop` after the run. Modes are interleaved and their order alternates
per repetition (A B, B A, ...), so each repetition is a pair that ran back to back.
Reports per mode the median (min-max, spread) of the rates and of Dovecot's CPU
(user+sys of the master and all its descendants) per operation, and the median of
the per-repetition plugin/stock ratios. Only loopback addresses are used; every
loop is bounded.

  dovecot-bench.py [--plugins BUILD_TREE] [--reps 10] [--msgs 2000] [--logins 2000]
                   [--users 100] [--conc 4] [--workdir /tmp/dovecot-bench] [--json FILE]
                   [--callgrind]

--callgrind: count instructions instead (valgrind's callgrind runs the lmtp and imap
processes; repeatable whatever else the machine does; use small --msgs/--logins).
--plugins: a directory (searched recursively) holding lib*_mailshard_plugin.so and
lib*_spam_prefs_plugin.so; without it only the stock mode runs.
Method and first baseline: shared notes, dovecot-bench/.
"""
import argparse, json, multiprocessing as mp, os, shutil, socket, statistics
import subprocess, sys, threading, time

UID = 5000


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def find_plugins(tree):
    found = {}
    sos = [os.path.join(os.path.abspath(d), f) for d, _, fs in os.walk(tree) for f in fs   # .libs/ too
           if f.startswith("lib") and f.endswith("_plugin.so")]
    for p in sorted(sos, key=os.path.getmtime):
        b = os.path.basename(p)
        if b.endswith("_mailshard_plugin.so") and "doveadm" not in b:
            found["mailshard"] = p
        elif b.endswith("_spam_prefs_plugin.so"):
            found["spam_prefs"] = p
    if set(found) != {"mailshard", "spam_prefs"}:
        sys.exit(f"plugins not found under {tree}: {found}")
    return found


CONF = """
instance_name = dovecot-bench-{name}
base_dir = {T}/run
state_dir = {T}/state
log_path = {T}/dovecot.log
listen = 127.0.0.1
protocols = imap lmtp
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_username_format = %Ln
lda_mailbox_autocreate = yes
{mail_lines}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {T}/users
}}
userdb {{
  driver = passwd-file
  args = {T}/users
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Junk {{
    special_use = \\Junk
    auto = subscribe
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
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
    address = 127.0.0.1
    port = {lmtp}
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
{plugin_lines}
"""

STOCK_MAIL = """mail_location = maildir:~/Maildir
mail_plugin_dir = {T}/mods"""
PLUGIN_MAIL = """mail_location =
mail_plugin_dir = {T}/mods
mail_plugins = mailshard"""
PLUGIN_BLOCK = """protocol lmtp {{
  mail_plugins = $mail_plugins spam_prefs
}}
plugin {{
  mailshard_volumes = v1={T}/srv/v1 v2={T}/srv/v2:2 v3={T}/srv/v3
}}"""


def setup(mode, rep, a, plugins):
    name = f"{mode}-{rep}"
    T = os.path.join(a.workdir, name)
    shutil.rmtree(T, ignore_errors=True)
    os.makedirs(T)
    os.chmod(T, 0o755)
    users = [f"user{i:03d}" for i in range(a.users)]
    with open(T + "/users", "w") as f:
        for u in users:
            home = f"{T}/home/{u}" if mode == "stock" else ""
            f.write(f"{u}:{{PLAIN}}pw:{UID}:{UID}::{home}::\n")
    if mode == "stock":
        os.makedirs(T + "/home")
        os.makedirs(T + "/mods")   # empty: the same mail_plugin_dir line as the plugin mode
        shutil.chown(T + "/home", UID, UID)
        mail_lines, plugin_lines = STOCK_MAIL.format(T=T), ""
    else:
        os.makedirs(T + "/mods")
        for p in plugins.values():
            os.symlink(p, os.path.join(T, "mods", os.path.basename(p)))
        for v in ("v1", "v2", "v3"):
            os.makedirs(f"{T}/srv/{v}")
            open(f"{T}/srv/{v}/.mailshard-volume", "w").close()
            shutil.chown(f"{T}/srv/{v}", UID, UID)
        shutil.chown(T + "/srv", UID, UID)
        mail_lines = PLUGIN_MAIL.format(T=T)
        plugin_lines = PLUGIN_BLOCK.format(T=T)
    ports = {"imap": free_port(), "lmtp": free_port()}
    with open(T + "/dovecot.conf", "w") as f:
        f.write(CONF.format(name=f"{name}-{os.getpid()}", T=T, mail_lines=mail_lines,
                            plugin_lines=plugin_lines, **ports))
    return T, users, ports


def start(T, ports):
    with open(T + "/start.err", "w") as err:   # the master keeps its stderr: no pipe
        r = subprocess.run(["dovecot", "-c", T + "/dovecot.conf"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=err)
    if r.returncode != 0:
        sys.exit("dovecot did not start: " + open(T + "/start.err").read()[-500:])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", ports["lmtp"]), timeout=1).close()
            socket.create_connection(("127.0.0.1", ports["imap"]), timeout=1).close()
            if os.path.exists(T + "/run/master.pid"):
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit("dovecot did not listen")


def stop(T):
    pidf = T + "/run/master.pid"
    pid = int(open(pidf).read()) if os.path.exists(pidf) else None
    subprocess.run(["doveadm", "-c", T + "/dovecot.conf", "stop"], capture_output=True)
    for _ in range(100):   # wait until this instance's master is gone
        if pid is None or not os.path.exists(f"/proc/{pid}"):
            return
        time.sleep(0.1)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buf = b""

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("connection closed")
            self.buf += d
        l, self.buf = self.buf.split(b"\r\n", 1)
        return l

    def smtp_reply(self):
        while True:
            l = self.line()
            if l[3:4] != b"-":
                return int(l[:3])

    def send(self, data):
        self.s.sendall(data)


def message(i, user):
    return (f"From: <bench@example.net>\r\nTo: <{user}@bench.test>\r\n"
            f"Subject: bench message {i}\r\nMessage-ID: <bench-{i}@example.net>\r\n"
            f"Date: Mon, 23 Nov 2026 07:00:00 +0000\r\nX-Spam-Score: 1.0\r\n\r\n"
            + "This is a small benchmark message body line.\r\n" * 6).encode()


def lmtp_worker(args):
    port, jobs, users = args
    bad = 0
    c = Conn(port)
    c.smtp_reply()
    c.send(b"LHLO bench\r\n")
    c.smtp_reply()
    for i in jobs:
        u = users[i % len(users)]
        c.send(b"MAIL FROM:<bench@example.net>\r\n")
        ok = c.smtp_reply() == 250
        c.send(f"RCPT TO:<{u}@bench.test>\r\n".encode())
        ok = c.smtp_reply() == 250 and ok
        c.send(b"DATA\r\n")
        if c.smtp_reply() != 354:
            bad += 1
            c.send(b"RSET\r\n")
            c.smtp_reply()
            continue
        c.send(message(i, u) + b".\r\n")
        ok = c.smtp_reply() == 250 and ok   # LMTP: one reply per recipient
        bad += 0 if ok else 1
    c.send(b"QUIT\r\n")
    c.smtp_reply()
    return bad


def imap_tagged(c, tag):
    while True:
        l = c.line()
        if l.startswith(tag + b" "):
            return l[len(tag) + 1:].startswith(b"OK")


def imap_worker(args):
    port, jobs, users = args
    bad = 0
    for j in jobs:
        u = users[j % len(users)]
        try:
            c = Conn(port)
            c.line()   # greeting
            c.send(f"a LOGIN {u} pw\r\n".encode())
            ok = imap_tagged(c, b"a")
            c.send(b"b SELECT INBOX\r\n")
            ok = imap_tagged(c, b"b") and ok
            c.send(b"c LOGOUT\r\n")
            ok = imap_tagged(c, b"c") and ok
            c.s.close()
        except (OSError, EOFError):
            ok = False
        bad += 0 if ok else 1
    return bad


def instance_cpu(master_pid):
    """CPU seconds (user+sys) used so far by the Dovecot master and every descendant:
    live processes' own time plus, through cutime/cstime, all reaped ones (imap and
    imap-login run one process per session and are reaped by the master).
    Returns (total, {process name: seconds}); reaped processes count as "reaped"."""
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            comm, f = open(f"/proc/{d}/stat").read().split(" (", 1)[1].rsplit(")", 1)
        except (OSError, ValueError):
            continue
        f = f.split()
        # after "(comm)": state ppid ... utime(14) stime(15) cutime(16) cstime(17), 1-based
        procs[int(d)] = (int(f[1]), comm, int(f[11]) + int(f[12]), int(f[13]) + int(f[14]))
    kids = {}
    for pid, (ppid, *_) in procs.items():
        kids.setdefault(ppid, []).append(pid)
    by, todo = {}, [master_pid]
    while todo:
        pid = todo.pop()
        if pid in procs:
            _, comm, own, reaped = procs[pid]
            by[comm] = by.get(comm, 0) + own
            by["reaped"] = by.get("reaped", 0) + reaped
            todo.extend(kids.get(pid, []))
    hz = os.sysconf("SC_CLK_TCK")
    return sum(by.values()) / hz, {k: v / hz for k, v in by.items()}


def cpu_by_ms(before, after, n):
    """milliseconds per operation by process name between two instance_cpu() readings"""
    return {k: 1000 * (after[1].get(k, 0) - before[1].get(k, 0)) / n
            for k in set(before[1]) | set(after[1])}


def timed(pool, worker, port, n, conc, users):
    chunks = [(port, range(k, n, conc), users) for k in range(conc)]
    t0 = time.monotonic()
    bad = sum(pool.map(worker, chunks))
    return time.monotonic() - t0, bad


def count_delivered(T, mode):
    root = T + ("/home" if mode == "stock" else "/srv")
    n = 0
    for d, _, fs in os.walk(root):
        if os.path.basename(d) in ("new", "cur") and "/.Junk" not in d:
            n += len(fs)
    return n


def one_run(mode, rep, a, plugins, pool):
    T, users, ports = setup(mode, rep, a, plugins)
    start(T, ports)
    try:
        master = int(open(T + "/run/master.pid").read())
        time.sleep(0.5)
        load_l, c0 = os.getloadavg()[0], instance_cpu(master)
        lt, lbad = timed(pool, lmtp_worker, ports["lmtp"], a.msgs, a.conc, users)
        time.sleep(0.5)   # let the master reap; CPU of the sleeps is negligible
        c1 = instance_cpu(master)
        delivered = count_delivered(T, mode)
        load_i, c2 = os.getloadavg()[0], instance_cpu(master)
        it, ibad = timed(pool, imap_worker, ports["imap"], a.logins, a.conc, users)
        time.sleep(0.5)
        c3 = instance_cpu(master)
        lmtp_by, imap_by = cpu_by_ms(c0, c1, a.msgs), cpu_by_ms(c2, c3, a.logins)
        c0, c1, c2, c3 = c0[0], c1[0], c2[0], c3[0]
    finally:
        stop(T)
    r = {"mode": mode, "rep": rep, "lmtp_s": lt, "lmtp_rate": a.msgs / lt, "lmtp_fail": lbad,
         "delivered": delivered, "imap_s": it, "imap_rate": a.logins / it, "imap_fail": ibad,
         "lmtp_cpu_ms": 1000 * (c1 - c0) / a.msgs, "imap_cpu_ms": 1000 * (c3 - c2) / a.logins,
         "load1_before_lmtp": load_l, "load1_before_imap": load_i,
         "lmtp_cpu_by_process_ms": lmtp_by, "imap_cpu_by_process_ms": imap_by}
    if not a.keep:
        shutil.rmtree(T, ignore_errors=True)
    return r


CALLGRIND_SERVICES = """
service lmtp {{
  executable = /usr/bin/valgrind --tool=callgrind --callgrind-out-file={out}/lmtp.%p /usr/lib/dovecot/lmtp
}}
service imap {{
  executable = /usr/bin/valgrind --tool=callgrind --callgrind-out-file={out}/imap.%p /usr/lib/dovecot/imap
}}
"""


def callgrind_totals(out, prefix):
    """instructions summed over the callgrind files OUT/PREFIX.*"""
    total = 0
    for f in os.listdir(out):
        if f.startswith(prefix + "."):
            for line in open(os.path.join(out, f)):
                if line.startswith("summary:") or line.startswith("totals:"):
                    total += int(line.split()[1])
                    break
    return total


def callgrind_run(mode, a, plugins, pool):
    """one instance whose lmtp and imap processes run under callgrind: instructions
    per delivery and per login (process start-up included), independent of load"""
    T, users, ports = setup(mode, "callgrind", a, plugins)
    out = T + "/callgrind"
    os.makedirs(out)
    os.chmod(out, 0o1777)   # imap writes its profile after dropping to the mail uid
    with open(T + "/dovecot.conf", "a") as f:
        f.write(CALLGRIND_SERVICES.format(out=out))
    # valgrind creates its output file when imap starts, as root, mode 0600, and
    # writes it at exit as the mail uid: hand each new file to the mail uid
    done = threading.Event()

    def chown_outputs():
        while not done.wait(0.02):
            for f in os.listdir(out):
                if f.startswith("imap.") and os.stat(os.path.join(out, f)).st_uid != UID:
                    os.chown(os.path.join(out, f), UID, UID)
    chowner = threading.Thread(target=chown_outputs, daemon=True)
    chowner.start()
    start(T, ports)
    try:
        lt, lbad = timed(pool, lmtp_worker, ports["lmtp"], a.msgs, a.conc, users)
        it, ibad = timed(pool, imap_worker, ports["imap"], a.logins, a.conc, users)
    finally:
        stop(T)
        done.set()
        chowner.join()
    time.sleep(1)
    lost = [f for f in os.listdir(out) if os.path.getsize(os.path.join(out, f)) == 0]
    if lost:
        sys.exit(f"callgrind profiles not written: {lost}")
    r = {"mode": mode, "lmtp_fail": lbad, "imap_fail": ibad,
         "lmtp_instr": callgrind_totals(out, "lmtp") / a.msgs,
         "imap_instr": callgrind_totals(out, "imap") / a.logins}
    if not a.keep:
        shutil.rmtree(T, ignore_errors=True)
    return r


def callgrind_main(a, plugins, modes):
    rs = {}
    with mp.Pool(a.conc) as pool:
        for mode in modes:
            rs[mode] = r = callgrind_run(mode, a, plugins, pool)
            print(f"{mode:6s} lmtp process: {r['lmtp_instr']:,.0f} instructions/delivery "
                  f"({r['lmtp_fail']} failed); imap process: {r['imap_instr']:,.0f} "
                  f"instructions/login ({r['imap_fail']} failed)", flush=True)
    if plugins:
        print("plugin/stock instructions: lmtp %.1f%%, imap %.1f%%" % (
            100 * rs["plugin"]["lmtp_instr"] / rs["stock"]["lmtp_instr"],
            100 * rs["plugin"]["imap_instr"] / rs["stock"]["imap_instr"]))
    if any(r["lmtp_fail"] or r["imap_fail"] for r in rs.values()):
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plugins", help="build tree with the mailshard and spam_prefs .so files")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--msgs", type=int, default=2000)
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--workdir", default="/tmp/dovecot-bench")
    ap.add_argument("--json", help="append one JSON line per run to this file")
    ap.add_argument("--keep", action="store_true", help="keep each run's directory")
    ap.add_argument("--callgrind", action="store_true",
                    help="instead of timing: count the instructions of the lmtp and imap "
                    "processes under valgrind's callgrind, one instance per mode")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    plugins = find_plugins(a.plugins) if a.plugins else None
    modes = ["stock", "plugin"] if plugins else ["stock"]
    os.makedirs(a.workdir, exist_ok=True)
    if a.callgrind:
        return callgrind_main(a, plugins, modes)
    results = []
    with mp.Pool(a.conc) as pool:
        for rep in range(1, a.reps + 1):
            order = modes if rep % 2 else modes[::-1]
            for mode in order:
                r = one_run(mode, rep, a, plugins, pool)
                results.append(r)
                print(f"rep {rep} {mode:6s} lmtp {r['lmtp_rate']:7.1f} msg/s ({r['lmtp_fail']} failed, "
                      f"{r['delivered']} on disk)  imap {r['imap_rate']:7.1f} logins/s "
                      f"({r['imap_fail']} failed)  CPU ms/op {r['lmtp_cpu_ms']:.2f}/{r['imap_cpu_ms']:.2f}"
                      f"  load1 {r['load1_before_lmtp']:.2f}/"
                      f"{r['load1_before_imap']:.2f}", flush=True)
                if a.json:
                    with open(a.json, "a") as f:
                        f.write(json.dumps(r) + "\n")
    print(f"\n{a.msgs} msgs to {a.users} users over {a.conc} LMTP sessions; "
          f"{a.logins} LOGIN+SELECT+LOGOUT over {a.conc} clients; {a.reps} reps")
    print("| mode | LMTP msg/s | IMAP logins/s | Dovecot CPU ms/msg | Dovecot CPU ms/login |")
    print("|---|---|---|---|---|")
    keys = ("lmtp_rate", "imap_rate", "lmtp_cpu_ms", "imap_cpu_ms")
    med = {}
    for mode in modes:
        rs = [r for r in results if r["mode"] == mode]
        cells = []
        for k in keys:
            v = [r[k] for r in rs]
            med[(mode, k)] = statistics.median(v)
            fmt = "{:.0f}" if k.endswith("rate") else "{:.3f}"
            cells.append(f"{fmt.format(statistics.median(v))} ({fmt.format(min(v))}-{fmt.format(max(v))}, "
                         f"spread {100 * (max(v) - min(v)) / statistics.median(v):.0f}%)")
        print(f"| {mode} | " + " | ".join(cells) + " |")
    if plugins:
        print("| plugin/stock | " + " | ".join(
            f"{100 * med[('plugin', k)] / med[('stock', k)]:.1f}%" for k in keys) + " |")
    if plugins:   # back-to-back ratios: the two modes of one repetition ran next to each other
        for k, label in (("lmtp_rate", "LMTP rate"), ("imap_rate", "IMAP rate"),
                         ("lmtp_cpu_ms", "LMTP CPU/msg"), ("imap_cpu_ms", "IMAP CPU/login")):
            q = sorted(100 * next(r[k] for r in results if r["rep"] == rep and r["mode"] == "plugin")
                       / next(r[k] for r in results if r["rep"] == rep and r["mode"] == "stock")
                       for rep in range(1, a.reps + 1))
            print(f"per-repetition plugin/stock {label}: median {statistics.median(q):.1f}% "
                  f"(min {q[0]:.1f}%, max {q[-1]:.1f}%)")
    # where the CPU went: medians per process name (reaped = per-session processes)
    for phase, unit in (("lmtp", "msg"), ("imap", "login")):
        key = phase + "_cpu_by_process_ms"
        names = sorted({k for r in results for k in r[key]})
        cells = []
        for name in names:
            meds = [statistics.median([r[key].get(name, 0) for r in results if r["mode"] == m])
                    for m in modes]
            if max(meds) >= 0.005:
                cells.append(f"{name} " + "/".join(f"{v:.3f}" for v in meds))
        print(f"{phase.upper()} CPU ms/{unit} by process, median {'/'.join(modes)}: "
              + ", ".join(cells))
    failed = sum(r["lmtp_fail"] + r["imap_fail"] for r in results)
    short = [r for r in results if r["delivered"] != a.msgs]
    if failed or short:
        print(f"WARNING: {failed} failed transactions, {len(short)} runs with missing messages")
        sys.exit(1)


if __name__ == "__main__":
    main()
