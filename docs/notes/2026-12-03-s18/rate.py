#!/usr/bin/env python3
"""rate.py DIR SETUP: slow commits (>= 100/150/200 ms, by start time) per second of wall time, by step before the pause,
inside the pause (+1 s after), and elsewhere (copy, replication, idle between switches)."""
import re, struct, sys, collections
d = sys.argv[1]; setup = sys.argv[2] if len(sys.argv) > 2 else '1'
raw = open(f'{d}/tl/{setup}-proxies/commits.bin', 'rb').read()
n = struct.unpack('>i', raw[:4])[0]
C = sorted((e - t/1000.0, t/1000.0) for e, t, f, c in (struct.unpack('>qqii', raw[4+i*24:28+i*24]) for i in range(n)))
sw = [l.split() for l in open(f'{d}/tl/{setup}-proxies/switches.txt')]
err = [l for l in open(f'{d}/bench.err') if 'pausing after' in l]
off = 0 if setup == '1' else len(sw)
iv = []
for k, (kind, start, pause) in enumerate(sw):
    start = int(start); pause = int(pause)
    steps = re.findall(r'([a-z ]+?) (\d+) ms', err[off+k].split('pausing after ')[1])
    t = start - sum(int(v) for _, v in steps)
    for nm, v in steps:
        iv.append((t, t+int(v), nm.strip())); t += int(v)
    iv.append((start, start+pause+1000, 'pause+1s'))
iv.sort()
T0, T1 = C[0][0], C[-1][0]
dur = collections.Counter(); cnt = {th: collections.Counter() for th in (100, 150, 200, 250)}
for a, b, nm in iv: dur[nm] += (b - a) / 1000
dur['elsewhere'] = (T1 - T0) / 1000 - sum(dur.values())
import bisect
starts = [a for a, b, nm in iv]
for s, took in C:
    i = bisect.bisect_right(starts, s) - 1
    nm = iv[i][2] if i >= 0 and s < iv[i][1] else 'elsewhere'
    for th in cnt:
        if took >= th: cnt[th][nm] += 1
print(f'{"step":16s} {"seconds":>8s} {">=100/s":>8s} {">=150/s":>8s} {">=200/s":>8s} {">=250/s":>8s}  (counts)')
for nm in sorted(dur, key=lambda x: -dur[x]):
    print(f'{nm:16s} {dur[nm]:8.1f} ' + ' '.join(f'{cnt[th][nm]/dur[nm]:8.2f}' for th in (100,150,200,250)) + '  ' + str([cnt[th][nm] for th in (100,150,200,250)]))
