package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.ProxyMetrics;

/**
 * The pause gate's hold on one session: parked before its client's next transaction while the database
 * is paused, until the gate releases it. Times each hold for the hold histogram. Event loop only (the
 * admin database's SHOW CLIENTS reads {@link #holding} as a snapshot).
 */
final class GateHold {
    private final ProxyMetrics metrics;
    private boolean holding;
    /** System.nanoTime() when the hold began; 0 once it was recorded. */
    private long heldSince;

    GateHold(ProxyMetrics metrics) {
        this.metrics = metrics;
    }

    boolean holding() {
        return holding;
    }

    long heldSince() {
        return heldSince;
    }

    void start() {
        holding = true;
        heldSince = System.nanoTime();
        metrics.holdStarted();
    }

    /** The gate let the session go on. */
    void release(String database) {
        if (holding) {
            record(database);
        }
        holding = false;
    }

    /** The session closed: a hold still running ends here. */
    void close(String database) {
        record(database);
    }

    private void record(String database) {
        if (heldSince != 0) {
            metrics.holdEnded(database, System.nanoTime() - heldSince);
            heldSince = 0;
        }
    }
}
