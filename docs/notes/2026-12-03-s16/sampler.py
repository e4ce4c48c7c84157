#!/usr/bin/env python3
# Samples, while a bench runs: run queue (/proc/stat procs_running every 10 ms, max per 100 ms), per-process CPU
# (jiffies per 100 ms, processes grouped by role), written as TSV lines "epoch_ms kind data".
import os, sys, time
out = open(sys.argv[1], 'w', buffering=1)
stop_file = sys.argv[2]
def procs():
    res = {}
    for p in os.listdir('/proc'):
        if not p.isdigit(): continue
        try:
            with open('/proc/%s/stat' % p) as f: s = f.read()
            r = s.rfind(')'); fields = s[r+2:].split()
            res[int(p)] = (int(fields[1]), int(fields[11]) + int(fields[12]), s[s.find('(')+1:r])
        except Exception: pass
    return res
names = {}
def role(pid, ppid, comm, table):
    if pid in names: return names[pid]
    try:
        cmd = open('/proc/%d/cmdline' % pid, 'rb').read().replace(b'\0', b' ').decode(errors='replace')
    except Exception: cmd = comm
    if comm == 'postgres':
        # postmaster: has -p; children: name by parent's port
        if ' -p ' in cmd:
            port = cmd.split(' -p ')[1].split()[0]; n = 'pm:' + port
        else:
            pp = table.get(ppid)
            pcmd = names.get(ppid) or (role(ppid, pp[0], pp[2], table) if pp else '?')
            port = pcmd.split(':', 1)[1].split('/')[0] if ':' in pcmd else '?'
            t = cmd.replace('postgres: ', '')[:40]
            n = 'pg:' + port + '/' + t
    elif comm == 'java':
        if 'ClientsProcess' in cmd: n = 'java:clients'
        elif 'PgReshardCommand proxy' in cmd: n = 'java:proxy'
        elif 'CutoverBench' in cmd: n = 'java:bench'
        else: n = 'java:' + cmd[-40:]
    else:
        n = comm
    names[pid] = n
    return n
prev = procs(); last = time.time(); rq = 0
while not os.path.exists(stop_file):
    time.sleep(0.01)
    with open('/proc/stat') as f:
        for line in f:
            if line.startswith('procs_running'): rq = max(rq, int(line.split()[1]))
    now = time.time()
    if now - last >= 0.1:
        cur = procs()
        parts = []
        for pid, (ppid, j, comm) in cur.items():
            d = j - prev.get(pid, (0, j if pid in prev else 0, ''))[1]
            if d > 0 and pid != os.getpid():
                parts.append('%s/%d=%d' % (role(pid, ppid, comm, cur), pid, d))
        out.write('%d\trq=%d\t%s\n' % (int(now * 1000), rq, ' '.join(parts)))
        prev = cur; last = now; rq = 0
