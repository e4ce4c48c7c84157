package dev.pgreshard.activities.replication;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a stream thread's time goes, logged at debug level every 10 s (tuning); confined to that thread.
 * Logged under {@link SourceStream}'s logger, which the benchmarks turn to debug.
 */
final class StreamStats {
    private static final Logger log = LoggerFactory.getLogger(SourceStream.class);

    private final String stream;
    long readNs;
    long flushNs;
    long flushes;
    long emptyReads;
    long caughtUpPauses;
    /** Time committing batches since the stream started (not reset by the periodic log). */
    long flushNsTotal;
    private long lastLogNs = System.nanoTime();
    private long lastChanges;

    StreamStats(String stream) {
        this.stream = stream;
    }

    void flushed(long ns) {
        flushNs += ns;
        flushNsTotal += ns;
        flushes++;
    }

    void log(ChangeRouter router) {
        long now = System.nanoTime();
        if (now - lastLogNs < 10_000_000_000L || !log.isDebugEnabled()) {
            return;
        }
        log.debug("{}: {} changes in {} ms: {} flushes taking {} ms, reading {} ms, {} empty reads, {} caught-up pauses",
                stream, router.changesApplied() - lastChanges, (now - lastLogNs) / 1_000_000, flushes, flushNs / 1_000_000,
                readNs / 1_000_000, emptyReads, caughtUpPauses);
        lastLogNs = now;
        lastChanges = router.changesApplied();
        readNs = flushNs = flushes = emptyReads = caughtUpPauses = 0;
    }
}
