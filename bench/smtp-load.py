#!/usr/bin/env python3
"""smtp-load.py - load for bench/milter-bench.sh: S sessions, one connection
per message (connect, EHLO, MAIL, RCPT, DATA, '.', QUIT, as smtp-source
without -d), a weighted mix of corpus files, each made unique (unless --same, which
sends the files as they are: after the first of each, libclamav's cache
answers); reports
msg/s, latency (connect .. final reply to '.') p50/p99 separately for small
and large (>= 512 KB) messages, the end-of-data latency ('.' .. reply, where
a milter works), reply codes, and CPU per message and peak RSS of the
watched process trees (descendants included, reaped children through
cutime).

  smtp-load.py --port P --sessions S --count N --mix DIR:a.eml=8,b.eml=1
               [--watch NAME=PID[,PID]]... [--label TEXT] [--json FILE] [--same]
  smtp-load.py --spamd PORT ...   the same accounting around raw SPAMC/1.5
               SYMBOLS requests (the spamd ceiling, no MTA)

Loopback only; every run is bounded by --count.  One JSON line per run is
appended to --json and printed."""
import argparse
import json
import os
import resource
import socket
import threading
import time

LARGE = 512 * 1024

ap = argparse.ArgumentParser()
ap.add_argument('--host', default='127.0.0.1')
ap.add_argument('--port', type=int)
ap.add_argument('--spamd', type=int, help='raw SPAMC/1.5 SYMBOLS to this port')
ap.add_argument('--sessions', type=int, default=4)
ap.add_argument('--count', type=int, default=100)
ap.add_argument('--mix', required=True)
ap.add_argument('--watch', action='append', default=[])
ap.add_argument('--label', default='')
ap.add_argument('--json')
ap.add_argument('--timeout', type=float, default=120.0)
ap.add_argument('--same', action='store_true', help='do not make messages unique')
a = ap.parse_args()
HZ = os.sysconf('SC_CLK_TCK')


def children(pid):
    out = []
    try:
        for t in os.listdir('/proc/%d/task' % pid):
            with open('/proc/%d/task/%s/children' % (pid, t)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def tree(pid):
    res, todo = [], [pid]
    while todo:
        p = todo.pop()
        res.append(p)
        todo += children(p)
    return res


def cpu_ticks(pid, own_only):
    try:
        with open('/proc/%d/stat' % pid) as f:
            v = [int(x) for x in f.read().rsplit(')', 1)[1].split()[11:15]]
    except OSError:
        return 0
    return v[0] + v[1] if own_only else sum(v)


def rss_kb(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


groups = {}
for w in a.watch:
    name, pids = w.split('=', 1)
    groups[name] = [int(p) for p in pids.split(',') if p]


def cpu_snapshot():
    snap = {}
    for name, roots in groups.items():
        t = 0
        for r in roots:
            t += cpu_ticks(r, False)
            t += sum(cpu_ticks(c, True) for c in tree(r)[1:])
        snap[name] = t / HZ
    return snap


rss_max = {n: 0 for n in groups}
stop = threading.Event()


def sampler():
    while not stop.is_set():
        for name, roots in groups.items():
            rss_max[name] = max(rss_max[name], sum(rss_kb(p) for r in roots for p in tree(r)))
        stop.wait(0.25)


# the corpus, dot-stuffed, CRLF; the cycle spread evenly over the weights
d, spec = a.mix.split(':', 1)
files, weights = {}, {}
for item in spec.split(','):
    name, k = (item.split('=') + ['1'])[:2]
    raw = open(os.path.join(d, name), 'rb').read().replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
    if not raw.endswith(b'\r\n'):
        raw += b'\r\n'
    if not a.spamd:
        raw = b'\r\n'.join((b'.' + l if l.startswith(b'.') else l) for l in raw.split(b'\r\n'))
    files[name] = raw
    weights[name] = int(k)
total = sum(weights.values())
pos = {n: 0.0 for n in weights}
cycle = []
for _ in range(total):
    n = min(weights, key=lambda n: (pos[n], n))
    cycle.append(n)
    pos[n] += total / weights[n]

lock = threading.Lock()
nxt = [0]
results = []        # (name, code, latency, eom latency)
TOKEN = '%d-%d' % (os.getpid(), int(time.time()))


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError('connection closed')
        if len(line) < 4 or line[3:4] != b'-':
            return int(line[:3])


def one_smtp(i, name, body):
    t0 = time.perf_counter()
    s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile('rb')
    try:
        reply(f)
        for cmd in (b'EHLO load.bench.example', b'MAIL FROM:<a@bench.example>',
                    b'RCPT TO:<b@sink.example>', b'DATA'):
            s.sendall(cmd + b'\r\n')
            c = reply(f)
            if c >= 400:
                return (name, c, time.perf_counter() - t0, 0.0)
        s.sendall(body + b'.\r\n')
        t1 = time.perf_counter()
        c = reply(f)
        t2 = time.perf_counter()
        s.sendall(b'QUIT\r\n')
        try:
            reply(f)
        except (EOFError, OSError):
            pass
        return (name, c, t2 - t0, t2 - t1)
    finally:
        f.close()
        s.close()


def one_spamd(i, name, body):
    t0 = time.perf_counter()
    s = socket.create_connection((a.host, a.spamd), timeout=a.timeout)
    try:
        s.sendall(b'SYMBOLS SPAMC/1.5\r\nContent-length: %d\r\nUser: bench\r\n\r\n' % len(body) + body)
        s.shutdown(socket.SHUT_WR)
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    t1 = time.perf_counter()
    ok = data.startswith(b'SPAMD/') and b' 0 EX_OK' in data.split(b'\r\n', 1)[0]
    return (name, 250 if ok else 500, t1 - t0, t1 - t0)


def worker():
    while True:
        with lock:
            if nxt[0] >= a.count:
                return
            i = nxt[0]
            nxt[0] += 1
        name = cycle[i % len(cycle)]
        body = files[name] if a.same else b'X-Bench-Seq: %s-%d\r\n' % (TOKEN.encode(), i) + files[name]
        try:
            results.append((one_spamd if a.spamd else one_smtp)(i, name, body))
        except (OSError, EOFError, ValueError):
            results.append((name, 0, 0.0, 0.0))


def pct(v, p):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))] * 1000, 2)


load0 = open('/proc/loadavg').read().split()[0]
c0 = cpu_snapshot()
r0 = resource.getrusage(resource.RUSAGE_SELF)
th = threading.Thread(target=sampler, daemon=True)
th.start()
t0 = time.perf_counter()
ts = [threading.Thread(target=worker) for _ in range(a.sessions)]
for t in ts:
    t.start()
for t in ts:
    t.join()
wall = time.perf_counter() - t0
stop.set()
th.join()
c1 = cpu_snapshot()
r1 = resource.getrusage(resource.RUSAGE_SELF)
n = a.count
codes = {}
for r in results:
    codes[str(r[1])] = codes.get(str(r[1]), 0) + 1
ok = [r for r in results if r[1] == 250]
small = [r for r in ok if len(files[r[0]]) < LARGE]
large = [r for r in ok if len(files[r[0]]) >= LARGE]
res = dict(label=a.label, sessions=a.sessions, count=n, wall_s=round(wall, 3), rate=round(n / wall, 2),
           codes=codes,
           small_ms={'p50': pct([r[2] for r in small], 50), 'p99': pct([r[2] for r in small], 99)},
           large_ms={'p50': pct([r[2] for r in large], 50), 'p99': pct([r[2] for r in large], 99)},
           eom_small_p50_ms=pct([r[3] for r in small], 50),
           cpu_ms_per_msg={k: round((c1[k] - c0[k]) / n * 1000, 2) for k in groups},
           rss_max_mb={k: round(v / 1024, 1) for k, v in rss_max.items()},
           client_cpu_ms_per_msg=round((r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime) / n * 1000, 2),
           load_before=load0, load_after=open('/proc/loadavg').read().split()[0])
line = json.dumps(res, sort_keys=True)
print(line)
if a.json:
    with open(a.json, 'a') as f:
        f.write(line + '\n')
