# CPU per role during each kind of step (ms of CPU per s of step), over all switches, vs the whole run
import sys, runpy, collections
sys.argv = ['analyze.py', sys.argv[1], sys.argv[2], '100000']
import io, contextlib
buf = io.StringIO()
with contextlib.redirect_stdout(buf):
    g = runpy.run_path(__file__.rsplit('/', 1)[0] + '/analyze.py')
steps, cpu = g['steps'], g['cpu']
def role(n):
    return n.replace('pg[', '').replace(']', ':')
acc = collections.defaultdict(collections.Counter); dur = collections.Counter(); rqs = collections.defaultdict(list)
for t, rq, d in cpu:
    mid = t - 50
    kind = 'other'
    for n, s, e, l in steps:
        if s <= mid < e:
            kind = n; break
    acc[kind].update(d); dur[kind] += 100; rqs[kind].append(rq)
roles = ['java:proxy', 'java:bench', 'java:clients', 'pg[src]backend', 'pg[d0]backend', 'pg[d1]backend', 'pg[src]walsender', 'psql']
print('%-17s %6s %5s ' % ('step', 'secs', 'rq') + ' '.join('%14s' % r for r in roles) + '  total')
for k in sorted(dur, key=lambda k: -dur[k]):
    s = dur[k] / 1000.0
    tot = sum(acc[k].values()) / s
    print('%-17s %6.1f %5.1f ' % (k, s, sum(rqs[k]) / len(rqs[k])) + ' '.join('%14.0f' % (acc[k][r] / s) for r in roles) + '  %5.0f' % tot)
