"""Counts perf samples around each switch (see perf-window.sh): by process kind, PostgreSQL's exit code, top threads."""
import collections, datetime, re, sys

out = sys.argv[1]
day = datetime.datetime.now(datetime.timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
def at(hms):
    h, m, s = hms.split(':')
    return day + int(h) * 3600 + int(m) * 60 + float(s)
windows = [(at(l.strip()) - 0.05, at(l.strip()) + 0.25) for l in open(out + '/switches.txt') if l.strip()]
# the kernel and libc work of a process ending (unmapping its memory, running its libraries' finalizers)
EXIT = {'unmap_page_range', 'native_set_pmd', '_dl_call_fini', '_dl_fini', '__munmap', '_fini', 'zap_pte_range',
        '__do_global_dtors_aux', 'free_pgtables', 'release_pages', 'exit_mmap', 'ReplicationSlotCleanup'}
kinds = collections.Counter(); exits = collections.Counter(); threads = collections.Counter()
line_re = re.compile(r'\s*(\S.*?)\s+(\d+)/?(\d*)\s+([\d.]+):\s+\S+\s+(.*?)\s+\((.*)\)\s*$')
for line in open(out + '/samples.txt'):
    m = line_re.match(line)
    if not m:
        continue
    comm, pid, tid, t, sym, dso = m.groups()
    t = float(t)
    if not any(a <= t < b for a, b in windows):
        continue
    kinds['idle' if comm == 'swapper' else 'postgres' if comm == 'postgres' else 'other'] += 1
    if comm == 'postgres' and sym in EXIT:
        exits[sym] += 1
    if comm not in ('postgres', 'swapper'):
        threads[(pid, comm)] += 1
print('switches', len(windows), 'samples in their windows', sum(kinds.values()), dict(kinds))
print('PostgreSQL samples in process-exit code', sum(exits.values()), exits.most_common(6))
for (pid, comm), n in threads.most_common(12):
    print('   %5d  pid %s  %s' % (n, pid, comm))
