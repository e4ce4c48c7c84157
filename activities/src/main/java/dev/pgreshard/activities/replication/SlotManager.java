package dev.pgreshard.activities.replication;

import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.workflows.copy.ShardSnapshot;
import dev.pgreshard.workflows.replication.Direction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Creates and drops what a stream needs on the shards it reads: the permanent pgoutput slot (and,
 * for reverse replication, the publication). Both operations are idempotent, so a retried or
 * repeated call converges; a drop tries every shard before reporting what it could not drop.
 */
public final class SlotManager {
    private static final Logger log = LoggerFactory.getLogger(SlotManager.class);
    private static final long DROP_WAIT_MS = 15_000;

    private final PgConnector connector;

    public SlotManager(PgConnector connector) {
        this.connector = connector;
    }

    /** Creates (or finds) the slot on every read shard; returns each slot's consistent point / confirmed position. */
    public List<ShardSnapshot> createSlots(StreamEndpoints endpoints) throws SQLException {
        List<String> tables = endpoints.direction() == Direction.REVERSE ? publishedTables(endpoints) : List.of();
        List<ShardSnapshot> out = new ArrayList<>();
        for (Shard shard : endpoints.readCluster().shards()) {
            try (Connection c = connector.open(shard)) {
                if (endpoints.direction() == Direction.REVERSE) {
                    ensurePublication(c, shard, endpoints.publication(), tables);
                }
                out.add(new ShardSnapshot(shard.index(), ensureSlot(c, shard, endpoints.slotName(shard.index()))));
            }
        }
        return out;
    }

    /** REVERSE: creates the publication on every destination shard where it is missing (no slot yet). */
    public void ensurePublications(StreamEndpoints endpoints) throws SQLException {
        List<String> tables = publishedTables(endpoints);
        for (Shard shard : endpoints.readCluster().shards()) {
            try (Connection c = connector.open(shard)) {
                ensurePublication(c, shard, endpoints.publication(), tables);
            }
        }
    }

    /**
     * The confirmed position of the stream's slot on read shard {@code shard} over an open connection,
     * or null when there is none yet (an error when the name is taken by something else).
     */
    public Lsn slotPosition(Connection c, StreamEndpoints endpoints, int shard) throws SQLException {
        Shard target = endpoints.readCluster().shard(shard);
        return existingSlot(c, target, endpoints.slotName(shard));
    }

    /**
     * Creates the stream's slot on read shard {@code shard} in one round trip, the caller having seen
     * that it did not exist ({@link #slotPosition}) and set the connection's statement_timeout; a slot
     * created meanwhile (42710) is found instead.
     */
    public ShardSnapshot createMissingSlot(Connection c, StreamEndpoints endpoints, int shard) throws SQLException {
        Shard target = endpoints.readCluster().shard(shard);
        return new ShardSnapshot(shard, create(c, target, endpoints.slotName(shard)));
    }

    /** The tables of the task's forward publication (read on the task's first source shard). */
    private List<String> publishedTables(StreamEndpoints endpoints) throws SQLException {
        Shard source = endpoints.writeCluster().shard(0);
        List<String> tables = new ArrayList<>();
        try (Connection c = connector.open(source);
             PreparedStatement ps = c.prepareStatement("SELECT schemaname, tablename FROM pg_catalog.pg_publication_tables "
                     + "WHERE pubname = ? AND schemaname <> 'pgreshard' ORDER BY 1, 2")) {
            ps.setString(1, endpoints.task().publication());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    tables.add(Identifiers.quote(rs.getString(1)) + "." + Identifiers.quote(rs.getString(2)));
                }
            }
        }
        if (tables.isEmpty()) {
            throw new IllegalStateException("publication " + endpoints.task().publication() + " on " + source.describe()
                    + " lists no table; reverse replication would carry nothing. Check the publication name");
        }
        return tables;
    }

    private static void ensurePublication(Connection c, Shard shard, String publication, List<String> tables) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = ?")) {
            ps.setString(1, publication);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        try (var s = c.createStatement()) {
            s.execute("CREATE PUBLICATION " + Identifiers.quote(publication) + " FOR TABLE " + String.join(", ", tables));
            log.info("created publication {} on {}", publication, shard.describe());
        } catch (SQLException e) {
            if (!"42710".equals(e.getSQLState())) { // created concurrently
                throw e;
            }
        }
    }

    private static Lsn ensureSlot(Connection c, Shard shard, String slot) throws SQLException {
        Lsn existing = existingSlot(c, shard, slot);
        return existing != null ? existing : create(c, shard, slot);
    }

    private static Lsn create(Connection c, Shard shard, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT lsn::text FROM pg_catalog.pg_create_logical_replication_slot(?, 'pgoutput')")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Lsn lsn = Lsn.parse(rs.getString(1));
                log.info("created slot {} on {} at {}", slot, shard.describe(), lsn);
                return lsn;
            }
        } catch (SQLException e) {
            if ("42710".equals(e.getSQLState())) { // created concurrently by a retry of this activity
                Lsn again = existingSlot(c, shard, slot);
                if (again != null) {
                    return again;
                }
            }
            if ("53400".equals(e.getSQLState())) {
                throw new SQLException(shard.describe() + ": no free replication slot for " + slot
                        + "; raise max_replication_slots or drop unused slots", e.getSQLState(), e);
            }
            throw e;
        }
    }

    /** The confirmed position of an existing slot of ours; an error if the name is taken by something else. */
    private static Lsn existingSlot(Connection c, Shard shard, String slot) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT database, plugin, slot_type, "
                + "coalesce(confirmed_flush_lsn, restart_lsn)::text, current_database() FROM pg_catalog.pg_replication_slots "
                + "WHERE slot_name = ?")) {
            ps.setString(1, slot);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                if (!"logical".equals(rs.getString(3)) || !"pgoutput".equals(rs.getString(2))
                        || !rs.getString(5).equals(rs.getString(1))) {
                    throw new IllegalStateException(shard.describe() + ": a replication slot named " + slot + " already exists "
                            + "(" + rs.getString(3) + ", plugin " + rs.getString(2) + ", database " + rs.getString(1)
                            + ") and is not this task's; drop it or use another task id");
                }
                return Lsn.parse(rs.getString(4));
            }
        }
    }

    /** Drops the slot on every read shard (ending a walsender that still holds it) and the reverse publications. */
    public void dropSlots(StreamEndpoints endpoints) throws SQLException {
        List<String> failures = new ArrayList<>();
        SQLException first = null;
        for (Shard shard : endpoints.readCluster().shards()) {
            try (Connection c = connector.open(shard)) {
                dropSlot(c, shard, endpoints.slotName(shard.index()));
                if (endpoints.direction() == Direction.REVERSE) {
                    try (var s = c.createStatement()) {
                        s.execute("DROP PUBLICATION IF EXISTS " + Identifiers.quote(endpoints.publication()));
                    }
                }
            } catch (SQLException | RuntimeException e) {
                failures.add(shard.describe() + ": " + e.getMessage());
                first = first == null && e instanceof SQLException se ? se : first;
            }
        }
        for (Shard shard : endpoints.writeCluster().shards()) {
            try (Connection c = connector.open(shard)) {
                ProgressTable.delete(c, endpoints.task().taskId(), endpoints.direction());
            } catch (SQLException e) {
                failures.add(shard.describe() + ": cannot clear replication progress: " + e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new SQLException("could not drop every replication object of task " + endpoints.task().taskId()
                    + " (retry to finish): " + String.join("; ", failures), first == null ? null : first.getSQLState(), first);
        }
    }

    private static void dropSlot(Connection c, Shard shard, String slot) throws SQLException {
        long deadline = System.currentTimeMillis() + DROP_WAIT_MS;
        while (true) {
            Integer activePid = null;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT active_pid FROM pg_catalog.pg_replication_slots WHERE slot_name = ? AND database = current_database()")) {
                ps.setString(1, slot);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return; // already gone
                    }
                    activePid = (Integer) rs.getObject(1);
                }
            }
            if (activePid != null) {
                log.info("{}: ending walsender {} that holds slot {}", shard.describe(), activePid, slot);
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_terminate_backend(?)")) {
                    ps.setInt(1, activePid);
                    ps.execute();
                }
            } else {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_drop_replication_slot(?)")) {
                    ps.setString(1, slot);
                    ps.execute();
                    log.info("dropped slot {} on {}", slot, shard.describe());
                    return;
                } catch (SQLException e) {
                    // 55006: became active again in between; 42704: dropped concurrently
                    if ("42704".equals(e.getSQLState())) {
                        return;
                    }
                    if (!"55006".equals(e.getSQLState())) {
                        throw e;
                    }
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new SQLException(shard.describe() + ": slot " + slot + " stays in use by process " + activePid
                        + "; stop whatever streams it and retry", "55006");
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while dropping slot " + slot, e);
            }
        }
    }
}
