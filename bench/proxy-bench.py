#!/usr/bin/env python3
"""proxy-bench.py - IMAP logins through proxy fronts, interleaved rounds.

usage: proxy-bench.py --port P --logins N --conc C --reps R --users U
                      [--backends PID,...] [--json FILE]
                      FRONT=ADDR:MASTERPID[:EXTRAPID,...] ...

Each round runs N IMAP sessions (LOGIN, LOGOUT) from C clients through every
front, in an order rotated per round; it measures the rate and the CPU per
login of the front's Dovecot instance (master and all descendants, reaped
ones included: bench/dovecot-bench.py instance_cpu) plus the EXTRA pids
(e.g. the Redis server a front uses), the part of it spent in the auth and
dict processes and the EXTRA pids (where the placement decision runs), and
the backends' CPU per login
(--backends PID,...). Prints per-round lines and the medians, and each
front's median rate and CPU as a ratio to the first front's, and the paired
(same-round) ratios with their spread: a second front with the first one's
configuration gives the A/A band.
"""
import argparse
import json
import concurrent.futures
import importlib.machinery
import os
import socket
import statistics
import time

HERE = os.path.dirname(os.path.abspath(__file__))
db = importlib.machinery.SourceFileLoader("dovecot_bench", os.path.join(HERE, "dovecot-bench.py")).load_module()


def pid_cpu(pid):
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")


def session(addr, port, user):
    s = socket.create_connection((addr, port), 10)
    f = s.makefile("rwb")
    f.readline()
    f.write(f"a LOGIN {user} pw\r\n".encode())
    f.flush()
    ok = False
    while True:
        line = f.readline()
        if not line:
            break
        if line.startswith(b"a "):
            ok = line.startswith(b"a OK")
            break
    f.write(b"b LOGOUT\r\n")
    f.flush()
    while True:
        line = f.readline()
        if not line or line.startswith(b"b "):
            break
    s.close()
    return ok


def worker(args):
    addr, port, jobs, users = args
    bad = 0
    for j in jobs:
        try:
            bad += 0 if session(addr, port, users[j % len(users)]) else 1
        except OSError:
            bad += 1
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--logins", type=int, default=1000)
    ap.add_argument("--conc", type=int, default=4)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--backends", default="")
    ap.add_argument("--json", help="append the rounds to this file (one JSON line)")
    ap.add_argument("fronts", nargs="+")
    a = ap.parse_args()
    users = ["u%03d" % i for i in range(a.users)]
    fronts = []
    for spec in a.fronts:
        name, rest = spec.split("=", 1)
        addr, pids = rest.split(":", 1)
        pids = pids.split(":")
        fronts.append((name, addr, int(pids[0]), [int(p) for p in pids[1].split(",")] if len(pids) > 1 and pids[1] else []))
    backends = [int(p) for p in a.backends.split(",") if p]
    res = {f[0]: [] for f in fronts}
    pool = concurrent.futures.ThreadPoolExecutor(a.conc)
    # warm-up: one short run per front
    for name, addr, master, extra in fronts:
        list(pool.map(worker, [(addr, a.port, range(k, 100, a.conc), users) for k in range(a.conc)]))
    for rep in range(a.reps):
        order = fronts[rep % len(fronts):] + fronts[:rep % len(fronts)]
        for name, addr, master, extra in order:
            i0 = db.instance_cpu(master)
            c0 = i0[0] + sum(pid_cpu(p) for p in extra)
            a0 = i0[1].get("auth", 0) + i0[1].get("dict", 0) + sum(pid_cpu(p) for p in extra)
            b0 = sum(db.instance_cpu(p)[0] for p in backends)
            t0 = time.monotonic()
            bad = sum(pool.map(worker, [(addr, a.port, range(k, a.logins, a.conc), users) for k in range(a.conc)]))
            dt = time.monotonic() - t0
            i1 = db.instance_cpu(master)
            c1 = i1[0] + sum(pid_cpu(p) for p in extra)
            a1 = i1[1].get("auth", 0) + i1[1].get("dict", 0) + sum(pid_cpu(p) for p in extra)
            b1 = sum(db.instance_cpu(p)[0] for p in backends)
            r = {"rate": a.logins / dt, "cpu_ms": 1000 * (c1 - c0) / a.logins,
                 "backend_cpu_ms": 1000 * (b1 - b0) / a.logins, "bad": bad,
                 "auth_cpu_ms": 1000 * (a1 - a0) / a.logins}
            res[name].append(r)
            print(f"round {rep + 1} {name:10s} {r['rate']:7.1f} logins/s  front CPU {r['cpu_ms']:.3f} ms/login"
                  f"  (auth+dict+store {r['auth_cpu_ms']:.3f})  backends {r['backend_cpu_ms']:.3f} ms/login  failed {bad}", flush=True)
    print()
    base = fronts[0][0]
    mb = {k: statistics.median(x[k] for x in res[base]) for k in ("rate", "cpu_ms")}
    print(f"medians over {a.reps} rounds of {a.logins} logins, {a.conc} clients (ratios to {base}):")
    for name, *_ in fronts:
        m = {k: statistics.median(x[k] for x in res[name]) for k in ("rate", "cpu_ms", "backend_cpu_ms", "auth_cpu_ms")}
        lo, hi = min(x["rate"] for x in res[name]), max(x["rate"] for x in res[name])
        print(f"  {name:10s} {m['rate']:7.1f} logins/s (min {lo:.1f}, max {hi:.1f}, {m['rate'] / mb['rate']:.3f})"
              f"  front CPU {m['cpu_ms']:.3f} ms/login ({m['cpu_ms'] / mb['cpu_ms']:.3f}; auth+dict+store {m['auth_cpu_ms']:.3f})"
              f"  backends {m['backend_cpu_ms']:.3f} ms/login  failed {sum(x['bad'] for x in res[name])}")
    # paired: each round's ratio to the first front's figure in the same
    # round (the load of the machine changes between rounds, less within);
    # a front with the first front's configuration (an A/A pair) shows the
    # band that noise alone gives
    print(f"paired ratios to {base}, per round: median (min-max)")
    for name, *_ in fronts[1:]:
        out = []
        for k in ("rate", "cpu_ms"):
            q = sorted(x[k] / y[k] for x, y in zip(res[name], res[base]))
            out.append(f"{k} {statistics.median(q):.3f} ({q[0]:.3f}-{q[-1]:.3f})")
        print(f"  {name:10s} " + "  ".join(out))
    if a.json:
        with open(a.json, "a") as f:
            f.write(json.dumps({"dovecot": db.subprocess.run(["dovecot", "--version"], capture_output=True,
                                                           text=True).stdout.strip(),
                                "logins": a.logins, "conc": a.conc, "rounds": res}) + "\n")


if __name__ == "__main__":
    main()
