package dev.pgreshard.proxy.differential;

import dev.pgreshard.proxy.differential.AnswerComparison.Outcome;
import dev.pgreshard.proxy.differential.AnswerComparison.Verdict;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Runs generated reads against the reference database and through the proxy, in every client mode,
 * and tallies the verdicts. A mode is how PgJDBC talks: the simple protocol (parameters inlined), the
 * extended protocol with unnamed statements (text results), and named server-side statements
 * ({@code prepareThreshold=1}) executed twice with different parameters — the second execution gets
 * binary results for the types PgJDBC reads in binary.
 */
final class DifferentialRun {
    private static final Logger LOG = LoggerFactory.getLogger(DifferentialRun.class);
    private static final int REPORTED_WRONGS = 20;
    private static final int PROGRESS_EVERY = 250;

    enum Mode {
        SIMPLE("preferQueryMode", "simple"),
        EXTENDED("prepareThreshold", "0"),
        PREPARED("prepareThreshold", "1");

        private final String property;
        private final String value;

        Mode(String property, String value) {
            this.property = property;
            this.value = value;
        }

        Properties properties() {
            Properties p = new Properties();
            p.setProperty(property, value);
            p.setProperty("socketTimeout", "120");
            return p;
        }

        /** The executions of a statement in this mode: false = first parameter set, true = second. */
        boolean[] executions() {
            return switch (this) {
                case SIMPLE -> new boolean[] {false};
                case EXTENDED -> new boolean[] {true};
                case PREPARED -> new boolean[] {false, true};
            };
        }
    }

    /** Opens a connection in a mode: to the reference database or to one cluster through the proxy. */
    interface Connector {
        Connection open(Mode mode) throws SQLException;
    }

    /** One wrong answer, with both sides. */
    record Wrong(String target, Mode mode, boolean second, GeneratedRead read, String why, Answer reference, Answer proxy) {
        @Override
        public String toString() {
            return target + " " + mode + (second ? " (2nd execution)" : "") + ": " + why + "\n    " + read + "\n    reference: "
                    + reference.brief(8) + "\n    proxy:     " + proxy.brief(8);
        }
    }

    private final Map<String, EnumMap<Verdict, Integer>> counts = new LinkedHashMap<>();
    private final List<Wrong> wrongs = new ArrayList<>();
    private final Map<String, Integer> refusedShapes = new java.util.TreeMap<>();
    private final List<String> refusedShould = new ArrayList<>();
    private int referenceErrors;
    /** The statements the reference rejected (generator defects), with its error, for the report. */
    private final List<String> referenceRejected = new ArrayList<>();
    /** Each statement's worst verdict over every target, mode and execution (WRONG > REFUSED > EQUAL). */
    private final Map<Integer, Verdict> perStatement = new java.util.HashMap<>();
    private final Map<String, Long> millis = new LinkedHashMap<>();
    private final Map<String, Integer> binaryAnswers = new java.util.TreeMap<>();
    private final java.util.PriorityQueue<Slow> slowest = new java.util.PriorityQueue<>(java.util.Comparator.comparingLong(Slow::millis));

    private record Slow(long millis, String what) {
    }

    /**
     * Runs every read in each mode on the reference and on the targets, judging each execution: on every
     * target, or with {@code alternate} on one target per read in turn (the small seed's time budget; the
     * common reads still run on every target).
     */
    void run(List<GeneratedRead> reads, List<Mode> modes, boolean alternate, Connector reference, Map<String, Connector> targets)
            throws SQLException {
        List<String> names = new ArrayList<>(targets.keySet());
        for (Mode mode : modes) {
            Map<String, Connection> open = new LinkedHashMap<>();
            try (Connection ref = reference.open(mode)) {
                for (var t : targets.entrySet()) {
                    open.put(t.getKey(), t.getValue().open(mode));
                }
                int done = 0;
                for (GeneratedRead g : reads) {
                    if (++done % PROGRESS_EVERY == 0) { // a long run shows how far it got, and what it found so far
                        LOG.info("{}: {} of {} statements; executions so far: equal {}, refused {}, wrong {}, reference errors {}",
                                mode, done, reads.size(), total(Verdict.EQUAL), total(Verdict.REFUSED), total(Verdict.WRONG),
                                referenceErrors);
                    }
                    long refStart = System.nanoTime();
                    List<Answer> expected = execute(ref, g, mode);
                    millis.merge("reference", (System.nanoTime() - refStart) / 1_000_000, Long::sum);
                    for (Answer a : expected) {
                        if (a.failed()) {
                            referenceErrors++;
                            LOG.warn("the reference database failed on {}: {}", g, a.error());
                            if (referenceRejected.size() < REPORTED_WRONGS) {
                                referenceRejected.add(mode + " " + g + " → " + a.sqlState() + " " + a.error());
                            }
                        }
                    }
                    for (var t : targets.entrySet()) {
                        if (alternate && !g.shape().equals("common") && names.indexOf(t.getKey()) != g.number() % names.size()) {
                            continue;
                        }
                        long start = System.nanoTime();
                        Connection c = open.get(t.getKey());
                        if (c.isClosed()) { // a broken proxy connection: counted as wrong below, later statements get a new one
                            c = t.getValue().open(mode);
                            open.put(t.getKey(), c);
                        }
                        List<Answer> got = execute(c, g, mode);
                        for (int i = 0; i < got.size(); i++) {
                            tally(t.getKey(), mode, i == 1, g, expected.get(i), got.get(i));
                        }
                        millis.merge(t.getKey(), (System.nanoTime() - start) / 1_000_000, Long::sum);
                        slowest.add(new Slow((System.nanoTime() - start) / 1_000_000, t.getKey() + " " + mode + " " + g));
                        if (slowest.size() > 5) {
                            slowest.poll();
                        }
                    }
                }
            } finally {
                for (Connection c : open.values()) {
                    c.close();
                }
            }
        }
    }

    private void tally(String target, Mode mode, boolean second, GeneratedRead g, Answer expected, Answer got) {
        Outcome o = AnswerComparison.judge(g, expected, got);
        perStatement.merge(g.number(), o.verdict(), (a, b) -> a.compareTo(b) >= 0 ? a : b);
        if (got.binary()) {
            binaryAnswers.merge(target + " " + mode + (second ? " 2nd" : " 1st"), 1, Integer::sum);
        }
        counts.computeIfAbsent(target + " " + mode, k -> new EnumMap<>(Verdict.class)).merge(o.verdict(), 1, Integer::sum);
        switch (o.verdict()) {
            case WRONG -> {
                Wrong w = new Wrong(target, mode, second, g, o.why(), expected, got);
                if (wrongs.size() < REPORTED_WRONGS) {
                    LOG.warn("wrong answer: {}", w);
                }
                wrongs.add(w);
            }
            case REFUSED -> {
                refusedShapes.merge(g.shape() + "/" + g.tier(), 1, Integer::sum);
                if (g.tier() == GeneratedRead.Tier.SHOULD && refusedShould.size() < 10) {
                    refusedShould.add(g + " → " + o.why());
                }
            }
            default -> {
            }
        }
    }

    /** The answers of one statement in one mode: one per execution (the named statement is re-executed). */
    static List<Answer> execute(Connection c, GeneratedRead g, Mode mode) {
        List<Answer> answers = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(g.sql())) {
            for (boolean second : mode.executions()) {
                answers.add(executeOnce(c, ps, g.params(second)));
            }
        } catch (SQLException e) {
            while (answers.size() < mode.executions().length) {
                answers.add(Answer.of(e));
            }
        }
        return answers;
    }

    private static Answer executeOnce(Connection c, PreparedStatement ps, List<Object> params) {
        try {
            ps.clearParameters();
            for (int i = 0; i < params.size(); i++) {
                bind(c, ps, i + 1, params.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                return Answer.of(rs);
            }
        } catch (SQLException e) {
            return Answer.of(e);
        }
    }

    private static void bind(Connection c, PreparedStatement ps, int index, Object value) throws SQLException {
        if (value instanceof Long l) {
            ps.setLong(index, l);
        } else if (value instanceof Integer i) {
            ps.setInt(index, i);
        } else if (value instanceof Double d) {
            ps.setDouble(index, d);
        } else if (value instanceof BigDecimal b) {
            ps.setBigDecimal(index, b);
        } else if (value instanceof String s) {
            ps.setString(index, s);
        } else if (value instanceof LocalDateTime t) {
            ps.setObject(index, t);
        } else if (value instanceof Long[] keys) {
            ps.setArray(index, c.createArrayOf("bigint", keys));
        } else {
            throw new IllegalArgumentException("no binding for parameter " + value);
        }
    }

    int total(Verdict v) {
        return counts.values().stream().mapToInt(m -> m.getOrDefault(v, 0)).sum();
    }

    long statements(Verdict v) {
        return perStatement.values().stream().filter(v::equals).count();
    }

    int referenceErrors() {
        return referenceErrors;
    }

    List<Wrong> wrongs() {
        return wrongs;
    }

    /** Every wrong answer with both sides, for a file next to the build's reports. */
    String allWrongs() {
        StringBuilder b = new StringBuilder();
        wrongs.forEach(w -> b.append(w).append('\n'));
        return b.toString();
    }

    /** The counts per target and mode, the refused shapes and the first wrong answers with both sides. */
    String report() {
        StringBuilder b = new StringBuilder();
        b.append("equal ").append(total(Verdict.EQUAL)).append(", refused ").append(total(Verdict.REFUSED)).append(", wrong ")
                .append(total(Verdict.WRONG)).append(" (executions; reference errors ").append(referenceErrors).append(")\n");
        b.append("statements (worst verdict over targets, modes and executions): equal ").append(statements(Verdict.EQUAL))
                .append(", refused ").append(statements(Verdict.REFUSED)).append(", wrong ").append(statements(Verdict.WRONG))
                .append('\n');
        counts.forEach((k, m) -> b.append("  ").append(k).append(": equal ").append(m.getOrDefault(Verdict.EQUAL, 0))
                .append(", refused ").append(m.getOrDefault(Verdict.REFUSED, 0)).append(", wrong ")
                .append(m.getOrDefault(Verdict.WRONG, 0)).append('\n'));
        b.append("executions answered with binary columns: ").append(binaryAnswers).append('\n');
        b.append("time (ms): ").append(millis).append('\n');
        b.append("slowest through the proxy: ");
        slowest.stream().sorted(java.util.Comparator.comparingLong(Slow::millis).reversed())
                .forEach(s -> b.append("\n  ").append(s.millis()).append(" ms ").append(s.what()));
        b.append('\n');
        b.append("refused by shape/tier: ").append(refusedShapes).append('\n');
        if (!refusedShould.isEmpty()) {
            b.append("refused although the planner's brief covers them (first ").append(refusedShould.size()).append("):\n");
            refusedShould.forEach(s -> b.append("  ").append(s).append('\n'));
        }
        if (!referenceRejected.isEmpty()) {
            b.append("rejected by the reference database (generator defects; first ").append(referenceRejected.size()).append("):\n");
            referenceRejected.forEach(s -> b.append("  ").append(s).append('\n'));
        }
        Map<String, Integer> whys = new java.util.TreeMap<>();
        wrongs.forEach(w -> whys.merge(w.why().replaceAll(" \\(.*\\)| at rows .*", ""), 1, Integer::sum));
        if (!wrongs.isEmpty()) {
            b.append("wrong by cause: ").append(whys).append('\n');
            b.append("first ").append(Math.min(REPORTED_WRONGS, wrongs.size())).append(" wrong answers:\n");
            wrongs.stream().limit(REPORTED_WRONGS).forEach(w -> b.append(w).append('\n'));
        }
        return b.toString();
    }
}
