#!/usr/bin/env python3
"""Per switch: the longest commit around it and the steps before the pause it overlapped."""
import re, sys
d = sys.argv[1]
out = open(d + '/bench.out').read().splitlines()
err = open(d + '/bench.err').read().splitlines()
sw = [l for l in out if re.match(r'\s+switch\s+\d+', l)]
pa = [l for l in err if 'pausing after' in l]
print(len(sw), 'switches,', len(pa), 'pausing lines')
for i, (s, p) in enumerate(zip(sw, pa)):
    m = re.search(r'pause\s+(\d+) ms\s+longest client commit around it\s+(\d+) ms \(started ([+-]\d+) ms', s)
    pause, longest, start = int(m.group(1)), int(m.group(2)), int(m.group(3))
    fs = re.search(r'first statement (\d+) ms, COMMIT (\d+) ms', s)
    steps = re.findall(r'([a-z ]+?) (\d+) ms', p.split('pausing after ')[1])
    total = sum(int(v) for _, v in steps)
    t = -total; where = []
    end = start + longest
    for name, v in steps:
        a, b = t, t + int(v)
        if start < b and end > a:
            where.append(name.strip())
        t = b
    if start < -total: where.insert(0, 'before')
    if end > 0: where.append('pause/after')
    flag = '*' if longest >= 200 else ' '
    print(f"{flag}{i%20+1:2d} {s.split()[2]:8s} longest {longest:4d} start {start:+6d} (first {fs.group(1)}, commit {fs.group(2)}) in {'+'.join(where):35s} | steps {total} ms: " + ', '.join(f'{n.strip()} {v}' for n, v in steps))
