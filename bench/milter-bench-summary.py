#!/usr/bin/env python3
"""milter-bench-summary.py RESULTS.jsonl... - the tables of bench/milter-bench.sh:
per part, session count and configuration the median over rounds (min-max)
of msg/s, latency p50/p99 of small and of 1 MB messages, scanner and
Postfix CPU per message, the scanner's peak RSS (every process of the
configuration: clamd + clamav-milter; in the spam part spamd's too); then
throughput ratios taken back to back within each round (median, per-round
values).  Several result files (runs of the same bench) are pooled: the
rounds of each later file are numbered after those of the files before."""
import collections
import json
import statistics as st
import sys

rows = []
for path in sys.argv[1:]:
    first = max([int(r['round']) for r in rows] or [0])
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            r.update(dict(kv.split('=', 1) for kv in r['label'].split()))
            r['round'] = str(int(r['round']) + first)
            if r['part'] != 'warm':
                rows.append(r)
ORDER = ['bare', 'null', 'nulltcp', 'mwtcp', 'mwux', 'mwux2', 'mwuxm', 'mwbase', 'mwuxnc', 'clamtcp', 'clamux', 'clamuxnc', 'mwsp', 'sass', 'spamd']


def med(vals, d=1):
    vals = [v for v in vals if v is not None]
    if not vals:
        return '-'
    m, lo, hi = st.median(vals), min(vals), max(vals)
    return ('%.*f' % (d, m)) if lo == hi else ('%.*f (%.*f-%.*f)' % (d, m, d, lo, d, hi))


groups = collections.defaultdict(list)
for r in rows:
    groups[(r['part'], r['sessions'], r['cfg'])].append(r)
print('| part | sess | config | runs | msg/s | small p50 ms | small p99 ms | 1MB p50 ms | 1MB p99 ms '
      '| scanner CPU ms/msg | Postfix CPU ms/msg | scanner peak RSS MB | load after |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
for key in sorted(groups, key=lambda k: (k[0], k[1], ORDER.index(k[2]))):
    rs = groups[key]
    part, s, cfg = key
    print('| %s | %d | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |' % (
        part, s, cfg, len(rs), med([r['rate'] for r in rs]),
        med([r['small_ms']['p50'] for r in rs]), med([r['small_ms']['p99'] for r in rs]),
        med([r['large_ms']['p50'] for r in rs], 0), med([r['large_ms']['p99'] for r in rs], 0),
        med([r['cpu_ms_per_msg'].get('scanner') for r in rs], 2),
        med([r['cpu_ms_per_msg'].get('postfix') for r in rs], 2),
        med([r['rss_max_mb'].get('scanner') for r in rs], 0),
        med([float(r['load_after']) for r in rs], 2)))
    bad = [r['codes'] for r in rs if set(r['codes']) != {'250'}]
    if bad:
        print('|  |  | %s: replies other than 250: %s |' % (cfg, bad))

PAIRS = [('null', 'bare'), ('mwux', 'null'), ('mwtcp', 'nulltcp'), ('mwtcp', 'null'), ('nulltcp', 'null'), ('mwtcp', 'bare'), ('mwux', 'bare'),
         ('clamux', 'bare'), ('mwtcp', 'clamtcp'), ('mwux', 'clamux'), ('mwtcp', 'clamux'),
         ('mwuxnc', 'clamuxnc'), ('mwuxnc', 'null'),
         ('mwsp', 'spamd'), ('sass', 'spamd'), ('mwsp', 'sass'),
         ('mwux', 'mwbase'), ('mwbase', 'clamux'), ('mwbase', 'null'),
         ('mwux2', 'mwux'), ('mwuxm', 'mwux'), ('mwbase', 'mwux')]
rate = {(r['part'], r['sessions'], r['round'], r['cfg']): r['rate'] for r in rows}
print('\n| part | sess | ratio (msg/s) | median | per round |')
print('|---|---|---|---|---|')
for part, s in sorted(set((k[0], k[1]) for k in groups)):
    for a, b in PAIRS:
        v = [rate[(part, s, rd, a)] / rate[(part, s, rd, b)]
             for rd in sorted(set(k[2] for k in rate))
             if (part, s, rd, a) in rate and (part, s, rd, b) in rate]
        if v:
            print('| %s | %d | %s / %s | **%.2f** | %s |' % (part, s, a, b, st.median(v),
                                                           ', '.join('%.2f' % x for x in v)))
