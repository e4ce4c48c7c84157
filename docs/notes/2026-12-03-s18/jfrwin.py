import json, sys, datetime
d = json.load(open(sys.argv[1]))
lo, hi = sys.argv[2], sys.argv[3]  # HH:MM:SS.mmm
evs = d['recording']['events']
def t(e): return e['values']['startTime'][11:23]
for e in sorted(evs, key=t):
    s = t(e)
    if not (lo <= s <= hi): continue
    v = e['values']; typ = e['type'].replace('jdk.', '')
    th = v.get('sampledThread') or v.get('eventThread') or {}
    thn = th.get('javaName') if isinstance(th, dict) else ''
    extra = ''
    st = v.get('stackTrace')
    if st and st.get('frames'):
        fr = st['frames'][:4]
        extra = ' <- '.join(f"{f['method']['type']['name'].split('.')[-1]}.{f['method']['name']}" for f in fr)
    dur = v.get('duration', '')
    if typ == 'Compilation': extra = v['method']['type']['name'] + '.' + v['method']['name'] + ' lvl ' + str(v.get('compileLevel'))
    if typ == 'Deoptimization': extra = v['method']['type']['name'] + '.' + v['method']['name'] + ' ' + str(v.get('reason')) + ' ' + str(v.get('action'))
    if typ == 'JavaErrorThrow': extra = str(v.get('message')) + ' ' + str(v.get('thrownClass', {}).get('name'))
    print(s, typ, dur, thn, extra[:200])
