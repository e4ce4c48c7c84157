# slow commits (>= THR ms) per second of each step kind (a commit counts for the step holding its middle)
import sys, runpy, collections, io, contextlib, glob
out, tmp = sys.argv[1], sys.argv[2]; thr = float(sys.argv[3]) if len(sys.argv) > 3 else 100
sys.argv = ['analyze.py', out, tmp, '100000']
with contextlib.redirect_stdout(io.StringIO()):
    g = runpy.run_path(__file__.rsplit('/', 1)[0] + '/analyze.py')
steps = g['steps']; cpu = g['cpu']
# only the periods around switches: [first step start - 0, pause end + 1000]
spans = collections.Counter(); slow = collections.Counter(); alls = collections.Counter()
ivs = sorted(steps, key=lambda s: s[1])
for setup in sorted(glob.glob(tmp + '/*-proxies')):
    for st, en, took, first, commit in g['load_timeline'](setup + '/clients-timeline.bin'):
        mid = (st + en) / 2
        k = None
        for n, s, e, l in ivs:
            if s <= mid < e: k = n; break
        if k is None:
            for n, s, e, l in ivs:
                if n == 'PAUSE' and e <= mid < e + 1000: k = 'after resume 1s'; break
                if n == 'prepare' and s - 1000 <= mid < s: k = 'before prepare 1s'; break
        if k is None: k = 'elsewhere'
        alls[k] += 1
        if took >= thr: slow[k] += 1
for n, s, e, l in ivs:
    spans[n] += (e - s) / 1000.0
    if n == 'PAUSE': spans['after resume 1s'] += 1.0
    if n == 'prepare': spans['before prepare 1s'] += 1.0
print('%-18s %7s %8s %6s %8s' % ('where', 'secs', 'commits', 'slow', 'slow/1000'))
for k in sorted(alls, key=lambda k: -slow[k] / max(alls[k], 1)):
    print('%-18s %7.1f %8d %6d %8.2f' % (k, spans.get(k, 0), alls[k], slow[k], 1000.0 * slow[k] / alls[k]))
