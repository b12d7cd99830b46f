#!/usr/bin/env python3
"""dovecot-bench.py - LMTP delivery rate and IMAP LOGIN+SELECT+LOGOUT rate of a private
Dovecot (2.3 or 2.4, whichever is installed) on 127.0.0.1, stock versus the same Dovecot
with the mailshard + spam_prefs plugins. Normally run through bench/dovecot-bench.sh.

The instances' files come from bench/dovecot-bench-instance.sh, i.e. from the test
library's configuration generator (tests/lib/dovecot.sh) in the syntax of the Dovecot
under test: stock = maildir under mail_home (the generator's default); plugin = the same
without mail location and home, mail_plugins mailshard (+ spam_prefs for LMTP/LDA, its
defaults), three volumes (one of weight 2), and on 2.4 the build's settings module in a
module overlay (a private mount namespace, as the tests do). Both modes set
mail_plugin_dir (the stock one to an empty directory). Only what the plugins need is set:
every plugin setting costs each session some instructions in Dovecot itself.

Run as root (Dovecot's master setuids to the mail uid 5000). Every run gets a fresh
instance and mail store under WORKDIR/<mode>-<rep>, its master in the foreground as our
child, stopped with `doveadm -c ... stop`. Modes: stock, stock2 (stock again: the A/A
noise band; --no-aa drops it) and plugin; their order rotates per repetition, so each
repetition is a set that ran back to back. Reports per mode the median (min-max, spread)
of the rates and of Dovecot's CPU (user+sys of the master and all its descendants) per
operation, and the median of the per-repetition stock2/stock and plugin/stock ratios.
Only loopback addresses are used; every loop is bounded.

  dovecot-bench.py [--plugins BUILD_TREE] [--reps 10] [--msgs 2000] [--logins 2000]
                   [--users 100] [--conc 4] [--workdir /tmp/dovecot-bench] [--json FILE]
                   [--no-aa] [--keep] [--callgrind]

--callgrind: count instructions instead: the master runs under valgrind's callgrind with
--trace-children=yes, so every Dovecot process (config, log, anvil, stats, auth,
imap-login, imap, lmtp) is counted; per mode three instances (warm-up only, + deliveries,
+ logins), per operation = difference / count (use small --msgs/--logins).
--plugins: the build tree (plugins/*/.libs/*.so, on 2.4 also the settings module);
without it only the stock modes run.
Method and first baseline: shared notes, dovecot-bench/.
"""
import argparse, json, multiprocessing as mp, os, shutil, socket, statistics
import subprocess, sys, threading, time

UID = 5000
INSTANCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "dovecot-bench-instance.sh")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def setup(mode, tag, a, extra_conf=""):
    """a fresh instance under WORKDIR/TAG: its files are written by
    bench/dovecot-bench-instance.sh, i.e. by the test library's generator
    (tests/lib/dovecot.sh), in the syntax of the Dovecot on this machine"""
    T = os.path.join(a.workdir, tag)
    shutil.rmtree(T, ignore_errors=True)
    env = dict(os.environ, BENCH_EXTRA_CONF=extra_conf)
    r = subprocess.run([INSTANCE, "plugin" if mode == "plugin" else "stock", T, a.plugins or ".",
                        str(a.users)], env=env, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        sys.exit(f"{INSTANCE} {mode} failed")
    info = json.loads(r.stdout)
    info["dir"] = T
    return info


def listening():
    """the ports listening on 127.0.0.1 or any address"""
    ports = set()
    with open("/proc/net/tcp") as f:
        for line in list(f)[1:]:
            local, st = line.split()[1], line.split()[3]
            addr, port = local.split(":")
            if st == "0A" and addr in ("0100007F", "00000000"):
                ports.add(int(port, 16))
    return ports


def start(info, wrapper=(), timeout=30):
    """the master in the foreground (-F) as our child, through the overlay's
    namespace prefix if any (unshare execs, so the pid is the master's)"""
    err = open(info["dir"] + "/master.err", "w")   # the master keeps its stderr: no pipe
    proc = subprocess.Popen(info["ns"] + list(wrapper) + ["dovecot", "-F", "-c", info["conf"]],
                            stdin=subprocess.DEVNULL, stdout=err, stderr=err)
    err.close()
    for _ in range(timeout * 10):
        if proc.poll() is not None:
            break
        # listening, seen in /proc/net/tcp: a probe connection would start an
        # imap-login or lmtp process, a different number of them per run
        if ({info["lmtp"], info["imap"]} <= listening()
                and os.path.exists(os.path.dirname(info["conf"]) + "/run/auth-userdb")):
            return proc
        time.sleep(0.1)
    stop(info, proc)
    sys.exit("dovecot did not start: " + open(info["dir"] + "/master.err").read()[-800:])


def cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline", errors="replace").read()
    except OSError:
        return ""


def stop(info, proc, timeout=30):
    subprocess.run(info["ns"] + ["doveadm", "-c", info["conf"], "stop"], capture_output=True)
    pids = instance_pids(proc.pid)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for _ in range(timeout * 10):   # the master does not wait for its children
        left = [p for p in pids if info["dir"] in cmdline(p)]
        if not left:
            return
        time.sleep(0.1)
    for p in left:   # only this instance's processes (their command line names its directory)
        os.kill(p, 9)


CLIENT_TIMEOUT = 30   # seconds per reply; --callgrind: 600 (everything runs under valgrind)


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=CLIENT_TIMEOUT)
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


def count_delivered(info):
    n = 0
    for d, _, fs in os.walk(info["mailroot"]):
        if os.path.basename(d) in ("new", "cur") and "/.Junk" not in d:
            n += len(fs)
    return n


def one_run(mode, rep, a, pool):
    info = setup(mode, f"{mode}-{rep}", a)
    proc = start(info)
    users = info["users"]
    try:
        master = proc.pid
        time.sleep(0.5)
        load_l, c0 = os.getloadavg()[0], instance_cpu(master)
        lt, lbad = timed(pool, lmtp_worker, info["lmtp"], a.msgs, a.conc, users)
        time.sleep(0.5)   # let the master reap; CPU of the sleeps is negligible
        c1 = instance_cpu(master)
        delivered = count_delivered(info)
        load_i, c2 = os.getloadavg()[0], instance_cpu(master)
        it, ibad = timed(pool, imap_worker, info["imap"], a.logins, a.conc, users)
        time.sleep(0.5)
        c3 = instance_cpu(master)
        lmtp_by, imap_by = cpu_by_ms(c0, c1, a.msgs), cpu_by_ms(c2, c3, a.logins)
        c0, c1, c2, c3 = c0[0], c1[0], c2[0], c3[0]
    finally:
        stop(info, proc)
    r = {"mode": mode, "rep": rep, "dovecot": info["version"], "lmtp_s": lt,
         "lmtp_rate": a.msgs / lt, "lmtp_fail": lbad,
         "delivered": delivered, "imap_s": it, "imap_rate": a.logins / it, "imap_fail": ibad,
         "lmtp_cpu_ms": 1000 * (c1 - c0) / a.msgs, "imap_cpu_ms": 1000 * (c3 - c2) / a.logins,
         "load1_before_lmtp": load_l, "load1_before_imap": load_i,
         "lmtp_cpu_by_process_ms": lmtp_by, "imap_cpu_by_process_ms": imap_by}
    if not a.keep:
        shutil.rmtree(info["dir"], ignore_errors=True)
    return r


# callgrind: the master runs under valgrind with --trace-children=yes, so every
# Dovecot process of the instance (master, config, log, anvil, stats, auth,
# imap-login, imap, lmtp, ...) writes its own profile OUT/cg.PID at exit.
# A process that chroots (login processes, anvil) could not write it there:
# the chroot is switched off for those, in both modes.
CALLGRIND_CONF = "".join(f"service {s} {{\n  chroot =\n}}\n" for s in
                         ("imap-login", "pop3-login", "submission-login", "anvil"))
WARMUP_MSGS, WARMUP_LOGINS = 5, 2


def instance_pids(master):
    """{pid: comm} of the master and its descendants"""
    ppid = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                comm, f = open(f"/proc/{d}/stat").read().split(" (", 1)[1].rsplit(")", 1)
                ppid[int(d)] = (int(f.split()[1]), comm)
            except (OSError, ValueError):
                pass
    out, todo = {}, [master]
    while todo:
        p = todo.pop()
        if p in ppid:
            out[p] = ppid[p][1]
            todo.extend(q for q, (pp, _) in ppid.items() if pp == p)
    return out


def profile(path):
    """(command, instructions) of one callgrind profile"""
    cmd, total = "?", 0
    for line in open(path, errors="replace"):
        if line.startswith("cmd:"):
            cmd = os.path.basename(line.split()[1])
        elif line.startswith("summary:") or line.startswith("totals:"):
            total = int(line.split()[1])
            break
    return cmd, total


def callgrind_instance(mode, phase, a, pool):
    """one instance under callgrind, from start to stop: a warm-up (a few
    deliveries and logins), then PHASE ("lmtp": a.msgs deliveries, "imap":
    a.logins logins, None: nothing). Returns the instructions of all its
    processes by command name and the failures."""
    info = setup(mode, f"{mode}-callgrind-{phase or 'base'}", a, CALLGRIND_CONF)
    out = info["dir"] + "/callgrind"
    os.makedirs(out)
    os.chmod(out, 0o1777)
    # valgrind creates each profile when the process starts (auth, imap,
    # lmtp: as root) and writes it at exit, after the process dropped
    # privileges: make every new profile writable by all
    done = threading.Event()

    def open_outputs():
        seen = set()
        while not done.wait(0.02):
            for f in set(os.listdir(out)) - seen:
                try:
                    os.chmod(os.path.join(out, f), 0o666)
                    seen.add(f)
                except OSError:
                    pass
    chmodder = threading.Thread(target=open_outputs, daemon=True)
    chmodder.start()
    vg = ["valgrind", "--tool=callgrind", "--trace-children=yes", "--vgdb=no",
          f"--callgrind-out-file={out}/cg.%p", f"--log-file={info['dir']}/valgrind.%p.log"]
    proc = start(info, vg, timeout=300)
    users = info["users"]
    bad = 0
    try:
        bad += timed(pool, lmtp_worker, info["lmtp"], WARMUP_MSGS, 1, users)[1]
        bad += timed(pool, imap_worker, info["imap"], WARMUP_LOGINS, 1, users)[1]
        if phase == "lmtp":
            bad += timed(pool, lmtp_worker, info["lmtp"], a.msgs, a.conc, users)[1]
        elif phase == "imap":
            bad += timed(pool, imap_worker, info["imap"], a.logins, a.conc, users)[1]
    finally:
        stop(info, proc, timeout=300)
        done.set()
        chmodder.join()
    delivered = count_delivered(info) - WARMUP_MSGS
    for _ in range(600):   # the last processes may still be writing theirs
        empty = [f for f in os.listdir(out) if not os.path.getsize(os.path.join(out, f))]
        if not empty:
            break
        time.sleep(0.1)
    by = {}
    for f in os.listdir(out):
        cmd, n = profile(os.path.join(out, f))
        by[cmd] = by.get(cmd, 0) + n
    if empty:
        sys.exit(f"callgrind profiles not written: {empty} in {out}")
    if not a.keep:
        shutil.rmtree(info["dir"], ignore_errors=True)
    return info["version"], by, bad, delivered


def callgrind_run(mode, a, pool):
    """instructions per delivery and per login over all the instance's
    processes, independent of load: three instances (warm-up only, warm-up +
    deliveries, warm-up + logins), each counted whole from start to stop;
    per operation = (phase instance - warm-up-only instance) / count, so
    start-up, warm-up and shut-down cancel. Each login's own processes
    (imap-login, imap: one per session by default) count whole, start-up
    included; the lmtp process is the warm-up's (steady state)."""
    version, base, bad0, _ = callgrind_instance(mode, None, a, pool)
    _, lmtp, lbad, delivered = callgrind_instance(mode, "lmtp", a, pool)
    _, imap, ibad, _ = callgrind_instance(mode, "imap", a, pool)

    def per_op(phase, n):
        return {k: (phase.get(k, 0) - base.get(k, 0)) / n for k in set(phase) | set(base)}
    lmtp_by, imap_by = per_op(lmtp, a.msgs), per_op(imap, a.logins)
    return {"mode": mode, "dovecot": version, "lmtp_fail": lbad + bad0, "imap_fail": ibad + bad0,
            "delivered": delivered,
            "lmtp_instr": sum(lmtp_by.values()), "imap_instr": sum(imap_by.values()),
            "lmtp_instr_by_process": lmtp_by, "imap_instr_by_process": imap_by}


def callgrind_main(a, modes):
    rs = {}
    with mp.Pool(a.conc) as pool:
        for mode in modes:
            rs[mode] = r = callgrind_run(mode, a, pool)
            print(f"{mode:6s} Dovecot {r['dovecot']}: {r['lmtp_instr']:,.0f} instructions/delivery "
                  f"({r['lmtp_fail']} failed, {r['delivered']} of {a.msgs} on disk); "
                  f"{r['imap_instr']:,.0f} instructions/login ({r['imap_fail']} failed)", flush=True)
            for k, unit in (("lmtp", "delivery"), ("imap", "login")):
                by = r[k + "_instr_by_process"]
                print(f"       {k} per {unit} by process: " + ", ".join(
                    f"{n} {v:,.0f}" for n, v in sorted(by.items(), key=lambda x: -x[1])
                    if abs(v) >= 500))
            if a.json:
                with open(a.json, "a") as f:
                    f.write(json.dumps(dict(r, kind="callgrind", msgs=a.msgs, logins=a.logins))
                            + "\n")
    for other in sorted(set(modes) - {"stock"} if "stock" in modes else [],
                        key=lambda m: m != "stock2"):
        print("%s/stock instructions: per delivery %.2f%%, per login %.2f%%" % (
            other, 100 * rs[other]["lmtp_instr"] / rs["stock"]["lmtp_instr"],
            100 * rs[other]["imap_instr"] / rs["stock"]["imap_instr"]))
    if any(r["lmtp_fail"] or r["imap_fail"] or r["delivered"] != a.msgs for r in rs.values()):
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plugins", help="the build tree (plugins/*/.libs/*.so); without it "
                    "only the stock modes run")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--msgs", type=int, default=2000)
    ap.add_argument("--logins", type=int, default=2000)
    ap.add_argument("--users", type=int, default=100)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--workdir", default="/tmp/dovecot-bench")
    ap.add_argument("--json", help="append one JSON line per run to this file")
    ap.add_argument("--keep", action="store_true", help="keep each run's directory")
    ap.add_argument("--no-aa", action="store_true", help="no second stock instance (A/A)")
    ap.add_argument("--callgrind", action="store_true",
                    help="instead of timing: count the instructions of every Dovecot process "
                    "under valgrind's callgrind, one instance per mode")
    ap.add_argument("--modes", help="comma-separated subset of stock,plugin,stock2 (callgrind: "
                    "e.g. to finish an interrupted run; ratios need stock)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root")
    # stock2: a second stock instance in every repetition, the A/A noise band
    # (callgrind runs the modes in this order: stock2 last)
    modes = ["stock"] + (["plugin"] if a.plugins else []) + ([] if a.no_aa else ["stock2"])
    if a.modes:
        want = a.modes.split(",")
        if not set(want) <= set(modes) or not want:
            sys.exit(f"--modes: a subset of {','.join(modes)}")
        modes = [m for m in modes if m in want]
    os.makedirs(a.workdir, exist_ok=True)
    if a.callgrind:
        global CLIENT_TIMEOUT
        CLIENT_TIMEOUT = 600
        return callgrind_main(a, modes)
    results = []
    with mp.Pool(a.conc) as pool:
        for rep in range(1, a.reps + 1):
            k = (rep - 1) % len(modes)   # the order rotates: each mode runs first in turn
            order = modes[k:] + modes[:k]
            for mode in order:
                r = one_run(mode, rep, a, pool)
                results.append(r)
                print(f"rep {rep} {mode:6s} lmtp {r['lmtp_rate']:7.1f} msg/s ({r['lmtp_fail']} failed, "
                      f"{r['delivered']} on disk)  imap {r['imap_rate']:7.1f} logins/s "
                      f"({r['imap_fail']} failed)  CPU ms/op {r['lmtp_cpu_ms']:.2f}/{r['imap_cpu_ms']:.2f}"
                      f"  load1 {r['load1_before_lmtp']:.2f}/"
                      f"{r['load1_before_imap']:.2f}", flush=True)
                if a.json:
                    with open(a.json, "a") as f:
                        f.write(json.dumps(r) + "\n")
    print(f"\nDovecot {results[0]['dovecot']}: {a.msgs} msgs to {a.users} users over {a.conc} "
          f"LMTP sessions; {a.logins} LOGIN+SELECT+LOGOUT over {a.conc} clients; {a.reps} reps")
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
    for other in modes[1:]:
        print(f"| {other}/stock | " + " | ".join(
            f"{100 * med[(other, k)] / med[('stock', k)]:.1f}%" for k in keys) + " |")
    # per-repetition ratios (the modes of one repetition ran back to back);
    # stock2/stock is the A/A band: what the machine's noise alone gives
    for other in modes[1:]:
        for k, label in (("lmtp_rate", "LMTP rate"), ("imap_rate", "IMAP rate"),
                         ("lmtp_cpu_ms", "LMTP CPU/msg"), ("imap_cpu_ms", "IMAP CPU/login")):
            q = sorted(100 * next(r[k] for r in results if r["rep"] == rep and r["mode"] == other)
                       / next(r[k] for r in results if r["rep"] == rep and r["mode"] == "stock")
                       for rep in range(1, a.reps + 1))
            print(f"per-repetition {other}/stock {label}: median {statistics.median(q):.1f}% "
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
