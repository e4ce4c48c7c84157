package dev.pgreshard.proxy.twophase;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Resolves our prepared transactions that their coordinator left behind (it died, or lost a shard or
 * the control store mid-commit). Every proxy runs it every {@link #INTERVAL}; the admin command
 * {@code RECOVER PREPARED} and {@code pgreshard recover-prepared} run it by hand. Each pass:
 * <ol>
 * <li>lists {@code pgreshard_*} transactions in {@code pg_prepared_xacts} of every shard of every
 * multi-shard cluster;</li>
 * <li>leaves those younger than {@link #MIN_AGE} alone (their coordinator is most likely still at work);</li>
 * <li>commits those whose transaction has a COMMIT decision; for the others records ABORT first (the
 * fence: a coordinator still alive then reads ABORT instead of committing), then rolls back;</li>
 * <li>once every shard was read, removes the decisions of transactions no shard still holds (an ABORT
 * only after {@link #ABORT_RETENTION}, so that a PREPARE still travelling to a shard finds its fence).</li>
 * </ol>
 */
public final class PreparedRecovery implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PreparedRecovery.class);
    public static final Duration INTERVAL = Duration.ofSeconds(5);
    public static final Duration MIN_AGE = Duration.ofSeconds(5);
    public static final Duration ABORT_RETENTION = Duration.ofMinutes(10);

    /** One of our prepared transactions on one shard, as SHOW PREPARED lists it. */
    public record InDoubt(String shard, String gid, double ageSeconds, String decision) {
    }

    /** What a pass did to one prepared transaction: committed, rolled back, left (too young), or failed: why. */
    public record Action(String shard, String gid, double ageSeconds, String decision, String result) {
    }

    /** A pass: its actions, and the shards it could not read (nothing was forgotten then). */
    public record Report(List<Action> actions, List<String> unreachable, int forgotten) {
    }

    private final PgReshardConfig config;
    private final List<Shard> shards;
    private final PgConnector connector;
    private final Supplier<DecisionLog> decisions;
    private final Duration minAge;
    private final Consumer<List<InDoubt>> afterPass;
    private ScheduledExecutorService timer;

    /**
     * @param afterPass gets the prepared transactions still there after each pass (for the metrics)
     */
    public PreparedRecovery(PgReshardConfig config, Supplier<DecisionLog> decisions, Duration minAge,
                            Consumer<List<InDoubt>> afterPass) {
        this.config = config;
        this.shards = shardsOf(config);
        this.connector = new PgConnector(config);
        this.decisions = decisions;
        this.minAge = minAge;
        this.afterPass = afterPass;
    }

    /** Every shard a two-phase commit can touch: those of clusters with more than one shard, each database once. */
    static List<Shard> shardsOf(PgReshardConfig config) {
        Topology topology = Topology.of(config);
        Map<String, Shard> distinct = new LinkedHashMap<>();
        for (String name : topology.clusterNames()) {
            Cluster c = topology.cluster(name);
            if (c.shardCount() > 1) {
                c.shards().forEach(s -> distinct.putIfAbsent(s.host() + ":" + s.port() + "/" + s.databaseName(), s));
            }
        }
        return List.copyOf(distinct.values());
    }

    /** Runs a pass every {@link #INTERVAL} in the background. */
    public synchronized void start() {
        if (timer != null || shards.isEmpty()) {
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgreshard-2pc-recovery");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::recoverQuietly, INTERVAL.toMillis(), INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void recoverQuietly() {
        try {
            Report r = recover();
            for (Action a : r.actions()) {
                if (!a.result().equals("left")) {
                    LOG.warn("prepared-transaction recovery: {} on {} {} (decision {}, {} s old)", a.gid(), a.shard(),
                            a.result(), a.decision(), Math.round(a.ageSeconds()));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("prepared-transaction recovery pass failed: {}", e.getMessage());
        }
    }

    /** The prepared transactions of ours on every shard now, with their decisions (SHOW PREPARED). */
    public List<InDoubt> inDoubt() {
        DecisionLog log = requireLog();
        Map<String, DecisionLog.Record> decided = byGid(log.all());
        List<InDoubt> out = new ArrayList<>();
        for (Shard shard : shards) {
            try (Connection c = connector.open(shard)) {
                for (Prepared p : list(c)) {
                    out.add(new InDoubt(shard.describe(), p.gid.toString(), p.ageSeconds, decisionOf(decided, p.gid)));
                }
            } catch (SQLException e) {
                out.add(new InDoubt(shard.describe(), "", 0, "unreachable: " + e.getMessage()));
            }
        }
        return out;
    }

    /** One recovery pass (see the class comment); passes never overlap. */
    public synchronized Report recover() {
        DecisionLog log = requireLog();
        List<DecisionLog.Record> before = log.all();
        Map<String, DecisionLog.Record> decided = byGid(before);
        List<Action> actions = new ArrayList<>();
        List<String> unreachable = new ArrayList<>();
        List<InDoubt> remaining = new ArrayList<>();
        Set<String> stillPrepared = new HashSet<>();
        for (Shard shard : shards) {
            try (Connection c = connector.open(shard)) {
                for (Prepared p : list(c)) {
                    Action a = resolve(c, shard, p, decided, log);
                    actions.add(a);
                    if (!a.result().equals("committed") && !a.result().equals("rolled back")) {
                        stillPrepared.add(p.gid.transaction());
                        remaining.add(new InDoubt(shard.describe(), p.gid.toString(), p.ageSeconds, a.decision()));
                    }
                }
            } catch (SQLException e) {
                unreachable.add(shard.describe() + ": " + e.getMessage());
            }
        }
        int forgotten = 0;
        if (unreachable.isEmpty()) {
            forgotten = forgetResolved(log, before, stillPrepared);
        }
        afterPass.accept(remaining);
        return new Report(actions, unreachable, forgotten);
    }

    private Action resolve(Connection c, Shard shard, Prepared p, Map<String, DecisionLog.Record> decided, DecisionLog log) {
        String decision = decisionOf(decided, p.gid);
        if (p.ageSeconds < minAge.toMillis() / 1000.0) {
            return new Action(shard.describe(), p.gid.toString(), p.ageSeconds, decision, "left");
        }
        try {
            DecisionLog.Outcome outcome = decided.containsKey(p.gid.transaction())
                    ? decided.get(p.gid.transaction()).outcome()
                    : log.decide(p.gid.transaction(), DecisionLog.Outcome.ABORT, shard.describe(), "recovery");
            decision = outcome.name().toLowerCase();
            finish(c, shard, p, outcome);
            return new Action(shard.describe(), p.gid.toString(), p.ageSeconds, decision,
                    outcome == DecisionLog.Outcome.COMMIT ? "committed" : "rolled back");
        } catch (SQLException | RuntimeException e) {
            return new Action(shard.describe(), p.gid.toString(), p.ageSeconds, decision, "failed: " + e.getMessage());
        }
    }

    /**
     * COMMIT or ROLLBACK PREPARED. Only the role that prepared a transaction (or a superuser) may finish
     * it, and clients prepare as their own server role: when that is not recovery's own login, the
     * users.toml entry that reaches the shard as that role finishes it.
     */
    private void finish(Connection own, Shard shard, Prepared p, DecisionLog.Outcome outcome) throws SQLException {
        String sql = (outcome == DecisionLog.Outcome.COMMIT ? "COMMIT PREPARED " : "ROLLBACK PREPARED ") + p.gid.literal();
        if (p.owner.equals(own.getMetaData().getUserName()) || isSuperuser(own)) {
            try (Statement s = own.createStatement()) {
                s.execute(sql);
            }
            return;
        }
        Credentials owner = config.serverCredentialsOf(shard.cluster(), p.owner).orElseThrow(() -> new SQLException(
                "prepared by role " + p.owner + ", which only that role or a superuser may finish; add a users.toml entry "
                        + "of '" + shard.cluster() + "' whose server_user is " + p.owner + ", or make the first entry's "
                        + "server_user a superuser, or run " + sql + " on " + shard.describe() + " as " + p.owner));
        try (Connection c = connector.open(shard, owner); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static boolean isSuperuser(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('is_superuser')")) {
            return rs.next() && "on".equals(rs.getString(1));
        }
    }

    private int forgetResolved(DecisionLog log, List<DecisionLog.Record> before, Set<String> stillPrepared) {
        Instant now = Instant.now();
        List<String> forget = new ArrayList<>();
        for (DecisionLog.Record r : before) {
            Duration age = Duration.between(r.decidedAt(), now);
            boolean old = r.outcome() == DecisionLog.Outcome.COMMIT ? age.compareTo(minAge) >= 0
                    : age.compareTo(ABORT_RETENTION) >= 0;
            if (old && !stillPrepared.contains(r.gid())) {
                forget.add(r.gid());
            }
        }
        if (!forget.isEmpty()) {
            log.forget(forget);
        }
        return forget.size();
    }

    private record Prepared(Gid gid, double ageSeconds, String owner) {
    }

    /** Our prepared transactions in the connected database (pg_prepared_xacts is server-wide). */
    private static List<Prepared> list(Connection c) throws SQLException {
        List<Prepared> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT gid, extract(epoch FROM now() - prepared), owner FROM pg_prepared_xacts "
                        + "WHERE database = current_database() AND gid LIKE 'pgreshard\\_%' ORDER BY prepared")) {
            while (rs.next()) {
                Optional<Gid> gid = Gid.parse(rs.getString(1));
                if (gid.isPresent()) {
                    out.add(new Prepared(gid.get(), rs.getDouble(2), rs.getString(3)));
                }
            }
        }
        return out;
    }

    private static Map<String, DecisionLog.Record> byGid(List<DecisionLog.Record> records) {
        Map<String, DecisionLog.Record> m = new HashMap<>();
        records.forEach(r -> m.put(r.gid(), r));
        return m;
    }

    private static String decisionOf(Map<String, DecisionLog.Record> decided, Gid gid) {
        DecisionLog.Record r = decided.get(gid.transaction());
        return r == null ? "none" : r.outcome().name().toLowerCase();
    }

    private DecisionLog requireLog() {
        DecisionLog log = decisions.get();
        if (log == null) {
            throw new IllegalStateException("prepared-transaction recovery needs the control store ([control]), "
                    + "where the commit decisions are kept; this proxy runs without it");
        }
        return log;
    }

    @Override
    public synchronized void close() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }
}
