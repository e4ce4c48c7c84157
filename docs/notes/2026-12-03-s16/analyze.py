#!/usr/bin/env python3
# Correlates the slow commits of a bench/cutover run with the worker's steps, the servers' activity and CPU.
# usage: analyze.py OUTDIR BENCHTMPDIR [THRESHOLD_MS]
import sys, struct, re, glob, os, datetime, collections
out, tmp = sys.argv[1], sys.argv[2]
thr = float(sys.argv[3]) if len(sys.argv) > 3 else 150
SHOWSTEPS = len(sys.argv) > 4
day = datetime.datetime.utcfromtimestamp(os.path.getmtime(out + '/bench.err')).date()
def ts(hms):
    h, m, s = hms.split(':'); sec, ms = s.split('.')
    return int(datetime.datetime(day.year, day.month, day.day, int(h), int(m), int(sec), tzinfo=datetime.timezone.utc).timestamp() * 1000) + int(ms)
# worker steps
steps = []  # (name, start, end, switch label)
switches = []
for line in open(out + '/bench.err'):
    m = re.match(r'(\d\d:\d\d:\d\d\.\d\d\d) .*TrafficSwitch - (\w+) of (\S+): pausing after (.*)', line)
    if m:
        t = ts(m.group(1)); parts = [(p.rsplit(' ', 2)[0], int(p.rsplit(' ', 2)[1])) for p in m.group(4).split(', ')]
        total = sum(d for _, d in parts); s = t - total
        label = m.group(2) + ' ' + m.group(3)
        for n, d in parts:
            steps.append((n, s, s + d, label)); s += d
        switches.append((label, t))
    m = re.match(r'(\d\d:\d\d:\d\d\.\d\d\d) .*TrafficSwitch - (\w+) of (\S+): .* clients paused (\d+) ms \((.*)\), ', line)
    if m:
        t = ts(m.group(1)); p = int(m.group(4))
        steps.append(('PAUSE', t - p, t, m.group(2) + ' ' + m.group(3)))
def load_timeline(path):
    data = open(path, 'rb').read(); n = struct.unpack('>i', data[:4])[0]; r = []
    for i in range(n):
        e, took, first, commit = struct.unpack('>qqii', data[4 + i * 24: 4 + (i + 1) * 24])
        r.append((e - took / 1000.0, e, took / 1000.0, first / 1000.0, commit / 1000.0))
    return r
act = {}
for f in glob.glob(out + '/act-*.txt'):
    port = f.split('-')[-1][:-4]; rows = []
    for line in open(f):
        p = line.rstrip('\n').split('|')
        if len(p) >= 10 and p[0].isdigit(): rows.append((int(p[0]), p))
    act[port] = rows
ports = {l.split()[2]: l.split()[4] for l in open(out + '/ports.txt')}
cpu = []
for line in open(out + '/cpu.tsv'):
    p = line.rstrip('\n').split('\t'); t = int(p[0]); rq = int(p[1][3:]); d = collections.Counter()
    if len(p) > 2 and p[2]:
        for name, pid, v in re.findall(r'(.+?)/(\d+)=(\d+)(?: |$)', p[2]):
            name = name.strip()
            if name.startswith('pg:'):
                port, kind = name[3:].split('/', 1)
                db = ports.get(port, port)
                kind = 'walsender' if kind.startswith('walsender') else ('backend' if ' ' in kind and ('127.0.0.1' in kind or 'idle' in kind or 'INSERT' in kind or 'UPDATE' in kind) else kind.split(' ')[0])
                name = 'pg[' + db.split('_')[0] + ']' + kind
            elif name.startswith('pm:'):
                name = 'pm[' + ports.get(name[3:], name[3:]).split('_')[0] + ']'
            d[name] += int(v) * 10
    cpu.append((t, rq, d))
for setup in sorted(glob.glob(tmp + '/*-proxies')):
    tl = load_timeline(setup + '/clients-timeline.bin')
    slow = sorted([c for c in tl if c[2] >= thr], key=lambda c: -c[2])
    print('==', setup, len(tl), 'commits,', len(slow), '>=', thr, 'ms')
    for st, en, took, first, commit in slow[:15]:
        print('\n* commit %.0f ms (first %.0f, COMMIT %.0f) %s -> %s' % (took, first, commit,
              datetime.datetime.utcfromtimestamp(st / 1000).strftime('%H:%M:%S.%f')[:-3], datetime.datetime.utcfromtimestamp(en / 1000).strftime('%H:%M:%S.%f')[:-3]))
        for n, s, e, label in steps:
            if s < en and e > st:
                print('   overlaps step %-16s %s [%+d, %+d] ms from commit start' % (n, label, s - st, e - st))
        for port, rows in act.items():
            for t, p in rows:
                if st - 20 <= t <= en + 20 and not (p[4] == 'Client') :
                    print('   act %s %+5d %s' % (ports.get(port, port)[:2], t - st, '|'.join(p[1:10])))
        agg = collections.Counter(); rqs = []
        for t, rq, d in cpu:
            if st <= t - 50 and t - 50 <= en:
                agg.update(d); rqs.append(rq)
        print('   cpu ms over %d samples (run queue max per 100 ms: %s): %s' % (len(rqs), rqs, ', '.join('%s %d' % kv for kv in agg.most_common(14))))

print('\n\n######## per switch: the longest commit in [pause-1s, resume+1s]')
pauses = [s for s in steps if s[0] == 'PAUSE']
tls = {}
for setup in sorted(glob.glob(tmp + '/*-proxies')):
    tls[setup] = load_timeline(setup + '/clients-timeline.bin')
for n, ps, pe, label in pauses:
    allc = [c for tl in tls.values() for c in tl if c[1] >= ps - 1000 and c[1] - c[2] <= pe + 1000]
    if not allc: continue
    top = sorted(allc, key=lambda c: -c[2])[:3]
    print('\n== %s pause %d ms at %s' % (label, pe - ps, datetime.datetime.utcfromtimestamp(ps / 1000).strftime('%H:%M:%S.%f')[:-3]))
    for n2, s, e, l2 in steps:
        if l2 == label and abs(s - ps) < 10000 and SHOWSTEPS:
            agg = collections.Counter(); rqs = []
            for t, rq, d in cpu:
                if s <= t - 50 <= e: agg.update(d); rqs.append(rq)
            print('   step %-16s [%+5d, %+5d] from pause; rq %s; cpu %s' % (n2, s - ps, e - ps, rqs, ', '.join('%s %d' % kv for kv in agg.most_common(6))))
    for st, en, took, first, commit in top:
        ov = [n2 for n2, s, e, l2 in steps if l2 == label and s < en and e > st and abs(s - ps) < 10000]
        agg = collections.Counter(); rqs = []
        for t, rq, d in cpu:
            if st <= t - 50 <= en: agg.update(d); rqs.append(rq)
        print('   commit %3.0f ms (first %3.0f, COMMIT %3.0f) [%+5d, %+5d] from pause; during %s; rq %s; cpu %s' % (took, first, commit, st - ps, en - ps, ov or 'no step', rqs, ', '.join('%s %d' % kv for kv in agg.most_common(6))))
