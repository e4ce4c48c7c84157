package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pg_current_wal_lsn()} of every shard a stream reads, asked on connections of its own by
 * whoever reports the status (the heartbeat loop, the foreground progress line). The stream threads
 * refresh the position too, but a stream blocked committing on a slow or locked destination shard
 * stops refreshing it, and the lag it reported froze (issue 17: 0 bytes while megabytes waited).
 * Asked at most once per {@code intervalMs}; a failed query keeps the last answer (the stream's own
 * failure reporting covers a lost source) and reopens the connection next time.
 */
final class SourceWalPositions implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SourceWalPositions.class);

    private final PgConnector connector;
    private final List<Shard> shards;
    private final long intervalMs;
    private final Connection[] connections;
    private final Lsn[] positions;
    private long askedAtMs;
    private boolean closed;

    SourceWalPositions(PgConnector connector, List<Shard> shards, long intervalMs) {
        this.connector = connector;
        this.shards = List.copyOf(shards);
        this.intervalMs = intervalMs;
        this.connections = new Connection[shards.size()];
        this.positions = new Lsn[shards.size()];
        java.util.Arrays.fill(positions, Lsn.INVALID);
    }

    /** The current WAL position per shard (INVALID where never read), asked again when older than the interval. */
    synchronized List<Lsn> current() {
        long now = System.currentTimeMillis();
        if (!closed && now - askedAtMs >= intervalMs) {
            askedAtMs = now;
            for (int i = 0; i < shards.size(); i++) {
                positions[i] = Lsn.max(positions[i], ask(i));
            }
        }
        return new ArrayList<>(List.of(positions));
    }

    private Lsn ask(int i) {
        try {
            if (connections[i] == null || connections[i].isClosed()) {
                connections[i] = connector.open(shards.get(i));
            }
            try (Statement s = connections[i].createStatement();
                 ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
                rs.next();
                return Lsn.parse(rs.getString(1));
            }
        } catch (SQLException e) {
            log.debug("cannot read the WAL position of {}: {}", shards.get(i), e.toString());
            closeQuietly(i);
            return Lsn.INVALID;
        }
    }

    private void closeQuietly(int i) {
        if (connections[i] != null) {
            try {
                connections[i].close();
            } catch (SQLException ignored) {
                // closing a broken connection
            }
            connections[i] = null;
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        for (int i = 0; i < connections.length; i++) {
            closeQuietly(i);
        }
    }
}
