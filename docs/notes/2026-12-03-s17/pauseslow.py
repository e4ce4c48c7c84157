#!/usr/bin/env python3
# per switch of a bench/cutover run: commits whose middle lies in the pause, how many took >= 100 ms, the longest
# usage: pauseslow.py OUTDIR BENCHTMPDIR   (uses analyze.py of the sixteenth session's notes for the steps and timelines)
import sys, runpy, io, contextlib, glob
out, tmp = sys.argv[1], sys.argv[2]
sys.argv = ['analyze.py', out, tmp, '100000']
with contextlib.redirect_stdout(io.StringIO()):
    g = runpy.run_path('/work/main/docs/notes/2026-12-03-s16/analyze.py')
pauses = sorted([s for s in g['steps'] if s[0] == 'PAUSE'], key=lambda s: s[1])
tl = []
for setup in sorted(glob.glob(tmp + '/*-proxies')):
    tl += g['load_timeline'](setup + '/clients-timeline.bin')
rows = []
for i, (n, s, e, label) in enumerate(pauses, 1):
    inside = [c for c in tl if s <= (c[0] + c[1]) / 2 < e]
    slow = [c for c in inside if c[2] >= 100]
    rows.append((i, label.split()[0], e - s, len(inside), len(slow), max([c[2] for c in inside], default=0)))
print('#  kind      pause  commits  >=100ms  longest')
for r in rows:
    print('%-2d %-8s %6d %8d %8d %8.0f' % r)
firsts = [r for r in rows if r[0] in (1, 21)]
rest = [r for r in rows if r[0] not in (1, 21)]
for name, rs in (('first switches', firsts), ('the others', rest)):
    print('%s: %d of %d commits >= 100 ms (%.1f/1000), longest %.0f ms' % (name, sum(r[4] for r in rs), sum(r[3] for r in rs),
          1000.0 * sum(r[4] for r in rs) / max(1, sum(r[3] for r in rs)), max(r[5] for r in rs)))
