#!/usr/bin/env python3
# JIT compilations of the proxies (-Xlog:jit+compilation=debug:file=OUT/proxy-jit-%p.log:time,uptime) per switch of a
# bench/cutover run: during the warm switch, inside the pause, in the second after the resume.
# usage: jitwin.py OUTDIR   (OUTDIR holds bench.err and the proxy-jit-*.log files)
import sys, re, glob, datetime, os
out = sys.argv[1]
day = datetime.datetime.utcfromtimestamp(os.path.getmtime(out + '/bench.err')).date()
def ts(hms):
    h, m, s = hms.split(':'); sec, ms = s.split('.')
    return int(datetime.datetime(day.year, day.month, day.day, int(h), int(m), int(sec), tzinfo=datetime.timezone.utc).timestamp() * 1000) + int(ms)
switches = []  # label, warm start, warm end, pause start, pause end
pending = None
for line in open(out + '/bench.err'):
    m = re.match(r'(\d\d:\d\d:\d\d\.\d\d\d) .*TrafficSwitch - (\w+) of (\S+): pausing after (.*)', line)
    if m:
        t = ts(m.group(1)); parts = [(p.rsplit(' ', 2)[0], int(p.rsplit(' ', 2)[1])) for p in m.group(4).split(', ')]
        s = t - sum(d for _, d in parts); warm = None
        for n, d in parts:
            if n == 'warm switch': warm = (s, s + d)
            s += d
        pending = (m.group(2), warm)
    m = re.match(r'(\d\d:\d\d:\d\d\.\d\d\d) .*TrafficSwitch - (\w+) of (\S+): .* clients paused (\d+) ms', line)
    if m and pending:
        t = ts(m.group(1)); p = int(m.group(4))
        switches.append((pending[0], pending[1], t - p, t)); pending = None
comp = []
for f in glob.glob(out + '/proxy-jit-*.log'):
    for line in open(f):
        m = re.match(r'\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)', line)
        if m:
            y, mo, d, h, mi, s, ms = map(int, m.groups())
            comp.append((int(datetime.datetime(y, mo, d, h, mi, s, tzinfo=datetime.timezone.utc).timestamp() * 1000) + ms,
                         'dev.pgreshard' in line))
comp.sort()
import bisect
keys = [c[0] for c in comp]
def count(a, b, own=False):
    i, j = bisect.bisect_left(keys, a), bisect.bisect_left(keys, b)
    return sum(1 for c in comp[i:j] if c[1]) if own else j - i
print('%-3s %-8s %8s %10s %7s %7s %11s %7s' % ('#', 'kind', 'warm ms', 'warm jit/s', 'pause', 'in pause', 'resume+1s', 'own'))
tot = [0, 0, 0, 0]
for i, (kind, warm, ps, pe) in enumerate(switches, 1):
    wj = count(*warm) if warm else 0; wd = (warm[1] - warm[0]) if warm else 0
    pj = count(ps, pe); rj = count(pe, pe + 1000); ro = count(pe, pe + 1000, True)
    tot[0] += wj; tot[1] += wd; tot[2] += pj; tot[3] += rj
    print('%-3d %-8s %8d %10.0f %7d %7d %11d %7d' % (i, kind, wd, 1000.0 * wj / max(wd, 1), pe - ps, pj, rj, ro))
print('total: warm switches %d compilations in %d ms (%.0f/s), in pauses %d, in the seconds after resumes %d' % (
    tot[0], tot[1], 1000.0 * tot[0] / max(tot[1], 1), tot[2], tot[3]))
