#!/usr/bin/env python3
"""tl.py DIR [SETUP]: per switch, the steps before the pause (from bench.err) and the slow commits (>= 100 ms) around it,
in absolute time, with how many commits overlapped each slow one."""
import re, struct, sys, datetime
d = sys.argv[1]; setup = sys.argv[2] if len(sys.argv) > 2 else '1'
raw = open(f'{d}/tl/{setup}-proxies/commits.bin', 'rb').read()
n = struct.unpack('>i', raw[:4])[0]
C = []
for i in range(n):
    e, t, f, c = struct.unpack('>qqii', raw[4 + i*24: 4 + (i+1)*24])
    C.append((e - t/1000.0, e, t/1000.0, f/1000.0, c/1000.0))
C.sort()
sw = [l.split() for l in open(f'{d}/tl/{setup}-proxies/switches.txt')]
err = [l for l in open(f'{d}/bench.err') if 'pausing after' in l]
off = 0 if setup == '1' else 20
def ts(ms): return datetime.datetime.utcfromtimestamp(ms/1000).strftime('%H:%M:%S.%f')[:-3]
for k, (kind, start, pause) in enumerate(sw):
    start = int(start); pause = int(pause)
    p = err[off + k]
    steps = re.findall(r'([a-z ]+?) (\d+) ms', p.split('pausing after ')[1])
    total = sum(int(v) for _, v in steps)
    t = start - total; bounds = []
    for name, v in steps:
        bounds.append((name.strip(), t, t + int(v))); t += int(v)
    lo, hi = start - 1000, start + pause + 1000
    slow = [c for c in C if c[1] >= lo and c[0] <= hi and c[2] >= 100]
    worst = max([c for c in C if c[1] >= lo and c[0] <= hi], key=lambda c: c[2])
    print(f'switch {k+1} {kind} pause {ts(start)} +{pause} ms; worst {worst[2]:.0f} ms at {ts(worst[0])}')
    print('   steps: ' + ', '.join(f'{nm} {ts(a)}-{b-a}' for nm, a, b in bounds))
    for c in slow:
        if c[0] >= start - 50 and c[1] <= start + pause + 100: continue  # inside the pause
        step = [nm for nm, a, b in bounds if c[0] < b and c[1] > a]
        conc = sum(1 for x in C if x[0] < c[1] and x[1] > c[0])
        print(f'   slow {c[2]:5.0f} ms {ts(c[0])}-{ts(c[1])} first {c[3]:.0f} commit {c[4]:.0f}; overlapping commits {conc}; in {step}')
