package dev.pgreshard.activities.sequence;

import dev.pgreshard.activities.sequence.SequenceCatalog.FeedingSequence;
import dev.pgreshard.activities.sequence.SequenceCatalog.State;
import dev.pgreshard.activities.support.ShardCalls;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.TableName;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Sets the sequences of the cluster traffic moves to so that no two of its shards, and none of them
 * and any shard of the cluster traffic leaves, can ever hand out the same value — without any
 * coordination when a value is drawn. For each sequence feeding a published table: with {@code base}
 * the furthest value handed out on either cluster (max ascending, min descending) and {@code inc}
 * the sequence's own increment, shard {@code i} of {@code N} gets {@code INCREMENT BY N × inc} and
 * its next value {@code base + (i + 1) × inc}. Shard i then hands out exactly the values
 * {@code base + (i + 1 + kN) × inc}: disjoint across shards, all past everything handed out before.
 * A 1-shard cluster (the source, on rollback) gets its own increment back and moves past every
 * shard's values. An N-shard cluster read again (a later N → M reshard, or the rollback) is
 * recognised by its increments (N × inc on every shard) and re-spaced from {@code inc}.
 *
 * <p>Logical replication carries no sequences, so without this the first INSERT after a switch
 * would reuse an id. A sequence whose remaining range cannot give every shard a useful share
 * ({@link #MIN_SHARE}, or 1% of its whole range when that is smaller) is refused, naming it and the
 * fix, before any client is paused.
 */
public final class SequenceSpacing {
    /** Values every shard must still be able to hand out (or 1% of the sequence's range, if smaller). */
    public static final long MIN_SHARE = 10_000;
    /** Least headroom {@link #planAhead} leaves, in steps of a sequence's increment. */
    public static final long MIN_HEADROOM = 1_000;

    /**
     * Where one sequence goes on each shard of the cluster written to.
     *
     * @param alterIncrement per shard: its increment differs from {@code increment} (ALTER SEQUENCE needed)
     */
    public record Target(TableName sequence, long increment, List<Long> nextValues, long valuesPerShard,
                         List<Boolean> alterIncrement, long furthest, long baseIncrement) {
        /** True when {@code handedOut} (a value some shard handed out) lies before every next value here. */
        boolean behind(long handedOut) {
            return baseIncrement > 0 ? handedOut < nextValues.get(0) : handedOut > nextValues.get(0);
        }
    }

    private final List<Target> targets;

    private SequenceSpacing(List<Target> targets) {
        this.targets = targets;
    }

    public List<Target> targets() {
        return targets;
    }

    /**
     * Computes where every sequence feeding {@code tables} goes.
     *
     * @param sourceSide a connection to the database whose catalog says which sequences feed the
     *                   tables (the source cluster's first shard)
     * @param from       every shard of the cluster traffic leaves
     * @param to         every shard of the cluster traffic goes to
     * @throws SequenceRangeException when a sequence is missing on a shard written to or its range is too small
     */
    public static SequenceSpacing plan(Connection sourceSide, Collection<TableName> tables, List<Connection> from,
                                       List<Connection> to, List<String> toNames) throws SQLException {
        return plan(SequenceCatalog.feeding(sourceSide, tables), from, to, toNames);
    }

    /** As above, for sequences already found ({@link SequenceCatalog#feeding}). */
    public static SequenceSpacing plan(List<FeedingSequence> feeding, List<Connection> from, List<Connection> to,
                                       List<String> toNames) throws SQLException {
        return plan(feeding, from, to, toNames, null);
    }

    /**
     * Spacing planned ahead of a pause, while clients still draw on the side traffic leaves: every next
     * value is put {@code headroom} further than the furthest value handed out now, where headroom is four
     * times what each sequence advanced since {@code earlier} (at least {@link #MIN_HEADROOM} steps). Inside
     * the pause {@link #stillAhead} then only has to read the side traffic leaves — no write, no second
     * plan — as long as clients drew less than the headroom in between (else the pause spaces anew).
     */
    public static SequenceSpacing planAhead(List<FeedingSequence> feeding, List<Connection> from, List<Connection> to,
                                            List<String> toNames, SequenceSpacing earlier) throws SQLException {
        return plan(feeding, from, to, toNames, earlier);
    }

    private static SequenceSpacing plan(List<FeedingSequence> feeding, List<Connection> from, List<Connection> to,
                                        List<String> toNames, SequenceSpacing earlier) throws SQLException {
        List<TableName> names = feeding.stream().map(FeedingSequence::sequence).toList();
        if (names.isEmpty()) {
            return new SequenceSpacing(List.of());
        }
        // every shard of both sides read at once (this runs inside the cutover's pause)
        List<Connection> all = new ArrayList<>(from);
        all.addAll(to);
        List<Map<TableName, State>> states = ShardCalls.onEach(all.size(), i -> SequenceCatalog.states(all.get(i), names));
        List<Map<TableName, State>> fromStates = states.subList(0, from.size());
        List<Map<TableName, State>> toStates = states.subList(from.size(), all.size());
        List<Target> targets = new ArrayList<>();
        for (FeedingSequence f : feeding) {
            targets.add(target(f, fromStates, toStates, toNames, earlier));
        }
        return new SequenceSpacing(targets);
    }

    /**
     * Values (in steps of the sequence's own increment) to leave free past {@code furthestNow}, the furthest
     * value handed out now: four times what the sequence advanced since this plan, at least {@link #MIN_HEADROOM}.
     */
    private long headroomSteps(TableName sequence, long furthestNow) {
        Target before = targets.stream().filter(t -> t.sequence().equals(sequence)).findFirst().orElse(null);
        if (before == null) {
            return MIN_HEADROOM;
        }
        long advanced = Math.abs(furthestNow - before.furthest()) / Math.abs(before.baseIncrement());
        return Math.max(MIN_HEADROOM, Math.min(Long.MAX_VALUE / 8, advanced) * 4);
    }

    /**
     * Inside the pause, for spacing made by {@link #planAhead}: reads every sequence on every shard of the
     * side traffic leaves (one round trip per shard, all at once) and says whether all they handed out lies
     * before the next values set ahead. When false the caller spaces anew.
     */
    public boolean stillAhead(List<Connection> from) throws SQLException {
        if (targets.isEmpty()) {
            return true;
        }
        List<TableName> names = targets.stream().map(Target::sequence).toList();
        List<Map<TableName, State>> states = ShardCalls.onEach(from.size(), i -> SequenceCatalog.states(from.get(i), names));
        for (Target t : targets) {
            for (Map<TableName, State> shard : states) {
                State s = shard.get(t.sequence());
                if (s != null && s.lastValue() != null && !t.behind(s.lastValue())) {
                    return false;
                }
            }
        }
        return true;
    }

    private static Target target(FeedingSequence f, List<Map<TableName, State>> fromStates,
                                 List<Map<TableName, State>> toStates, List<String> toNames, SequenceSpacing earlier) {
        TableName name = f.sequence();
        List<State> to = new ArrayList<>();
        for (int i = 0; i < toStates.size(); i++) {
            State s = toStates.get(i).get(name);
            if (s == null) {
                throw new SequenceRangeException("sequence " + name + " feeds " + f.feeds() + " but does not exist on "
                        + toNames.get(i) + "; create it there (pgreshard schema-sync ... --phase pre) and try again");
            }
            to.add(s);
        }
        List<State> from = fromStates.stream().map(m -> m.get(name)).filter(java.util.Objects::nonNull).toList();
        long inc = baseIncrement(from.isEmpty() ? to : from);
        boolean ascending = inc > 0;
        BigInteger base = null;
        for (State s : concat(from, to)) {
            if (s.lastValue() != null) {
                BigInteger v = BigInteger.valueOf(s.lastValue());
                base = base == null ? v : ascending ? base.max(v) : base.min(v);
            }
        }
        if (base == null) { // never used anywhere: the first value is the start, as on the source
            base = BigInteger.valueOf(to.get(0).start()).subtract(BigInteger.valueOf(inc));
        }
        long furthest = base.longValueExact();
        if (earlier != null) { // planned ahead of the pause: leave room for what clients still draw
            base = base.add(BigInteger.valueOf(inc).multiply(BigInteger.valueOf(earlier.headroomSteps(name, furthest))));
        }
        int n = to.size();
        BigInteger step = BigInteger.valueOf(inc).multiply(BigInteger.valueOf(n));
        // the bounds of the sequence on the shards written to (the tightest, should they differ)
        BigInteger min = BigInteger.valueOf(to.stream().mapToLong(State::min).max().orElseThrow());
        BigInteger max = BigInteger.valueOf(to.stream().mapToLong(State::max).min().orElseThrow());
        BigInteger range = max.subtract(min).divide(BigInteger.valueOf(Math.abs(inc)));
        // returning to one server (rollback) is refused only when nothing is left at all
        long needed = n == 1 ? 1 : Math.max(1, Math.min(MIN_SHARE, range.divide(BigInteger.valueOf(100)).longValueExact()));
        List<Long> next = new ArrayList<>();
        long share = Long.MAX_VALUE;
        for (int i = 0; i < n; i++) {
            BigInteger first = base.add(BigInteger.valueOf(inc).multiply(BigInteger.valueOf(i + 1L)));
            BigInteger room = ascending ? max.subtract(first) : first.subtract(min);
            long values = room.signum() < 0 ? 0 : room.divide(step.abs()).add(BigInteger.ONE)
                    .min(BigInteger.valueOf(Long.MAX_VALUE)).longValueExact();
            share = Math.min(share, values);
            if (values < needed) {
                throw new SequenceRangeException("sequence " + name + " (" + to.get(0).dataType() + ", feeds " + f.feeds()
                        + ") is too close to its " + (ascending ? "MAXVALUE " + max : "MINVALUE " + min) + ": after the "
                        + "furthest value handed out (" + base + "), " + toNames.get(i) + " (one of " + n + " shards) would have "
                        + values + " values left (at least " + needed + " are needed); widen it first (ALTER SEQUENCE " + name.quoted() + " AS bigint MAXVALUE ..., and "
                        + "the column's type) and cut over again");
            }
            next.add(first.longValueExact());
        }
        long increment = step.longValueExact();
        return new Target(name, increment, List.copyOf(next), share,
                to.stream().map(st -> st.increment() != increment).toList(), furthest, inc);
    }

    /**
     * The increment one server would use: the increment of a 1-shard cluster, or a spaced cluster's
     * common increment divided by its shard count (what an earlier move set, see the class comment).
     */
    static long baseIncrement(List<State> shards) {
        long inc = shards.get(0).increment();
        int n = shards.size();
        boolean spaced = n > 1 && inc % n == 0 && shards.stream().allMatch(s -> s.increment() == inc);
        return spaced ? inc / n : inc;
    }

    private static List<State> concat(List<State> a, List<State> b) {
        List<State> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    /** Sets every sequence on every shard written to: one round trip per shard, all at once. Returns how many were set. */
    public int apply(List<Connection> to) throws SQLException {
        if (targets.isEmpty()) {
            return 0;
        }
        ShardCalls.onEach(to.size(), i -> {
            StringBuilder sql = new StringBuilder();
            for (Target t : targets) {
                String seq = t.sequence().quoted();
                if (t.alterIncrement().get(i)) {
                    sql.append("ALTER SEQUENCE ").append(seq).append(" INCREMENT BY ").append(t.increment()).append(";\n");
                }
                sql.append("SELECT pg_catalog.setval(").append(Identifiers.literal(seq)).append(", ")
                        .append(t.nextValues().get(i)).append(", false);\n");
            }
            try (Statement s = to.get(i).createStatement()) {
                s.execute(sql.toString());
            }
            return null;
        });
        return targets.size() * to.size();
    }

    /** A sequence the switch cannot space safely: bad input for the operator, never retried as is. */
    public static final class SequenceRangeException extends RuntimeException {
        public SequenceRangeException(String message) {
            super(message);
        }
    }
}
