package dev.pgreshard.proxy.differential;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * Judges the proxy's answer against the reference database's: equal (in order as far as the ORDER BY
 * determines it, as multisets otherwise, with the same column labels and types), refused with
 * SQLSTATE 0A000 (when the statement's tier allows it), or wrong.
 */
final class AnswerComparison {
    enum Verdict { EQUAL, REFUSED, WRONG }

    /** @param why for WRONG, what differs; for REFUSED, the proxy's message */
    record Outcome(Verdict verdict, String why) {
    }

    private AnswerComparison() {
    }

    static Outcome judge(GeneratedRead g, Answer reference, Answer proxy) {
        if (reference.failed()) {
            if (proxy.failed() && proxy.sqlState().equals(reference.sqlState())) {
                return new Outcome(Verdict.EQUAL, null);
            }
            return proxy.refused() && g.tier() != GeneratedRead.Tier.MUST ? new Outcome(Verdict.REFUSED, proxy.error())
                    : new Outcome(Verdict.WRONG, "the reference failed with " + reference.sqlState() + ", the proxy did not");
        }
        if (proxy.failed()) {
            if (!proxy.refused()) {
                return new Outcome(Verdict.WRONG, "error " + proxy.sqlState() + " instead of an answer");
            }
            return g.tier() == GeneratedRead.Tier.MUST ? new Outcome(Verdict.WRONG, "refused a common shape that must be answered")
                    : new Outcome(Verdict.REFUSED, proxy.error());
        }
        if (!reference.labels().equals(proxy.labels())) {
            return new Outcome(Verdict.WRONG, "column labels differ");
        }
        if (!reference.types().equals(proxy.types())) {
            return new Outcome(Verdict.WRONG, "column types differ" + typeDifference(reference.types(), proxy.types()));
        }
        String rows = switch (g.order()) {
            case EXACT -> reference.rows().equals(proxy.rows()) ? null
                    : sameMultiset(reference.rows(), proxy.rows()) ? "same rows in another order" : "different rows";
            case MULTISET -> sameMultiset(reference.rows(), proxy.rows()) ? null : "different rows";
            case GROUPS -> compareGroups(g.orderKeys(), reference, proxy);
        };
        return rows == null ? new Outcome(Verdict.EQUAL, null) : new Outcome(Verdict.WRONG, rows);
    }

    /** The first column whose type (name, precision, scale) differs, e.g. a type modifier lost in the merge. */
    private static String typeDifference(List<String> a, List<String> b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            if (!a.get(i).equals(b.get(i))) {
                return " (column " + (i + 1) + ": " + a.get(i) + " expected, " + b.get(i) + " given)";
            }
        }
        return " (" + a.size() + " columns expected, " + b.size() + " given)";
    }

    private static boolean sameMultiset(List<List<String>> a, List<List<String>> b) {
        return a.size() == b.size() && sorted(a).equals(sorted(b));
    }

    private static List<List<String>> sorted(List<List<String>> rows) {
        List<List<String>> copy = new ArrayList<>(rows);
        copy.sort(Comparator.comparing(Object::toString));
        return copy;
    }

    /**
     * ORDER BY keys that may tie: the sequence of key values must be the reference's, and each run of
     * rows with equal keys must hold the same rows in any order.
     */
    private static String compareGroups(List<Integer> keys, Answer reference, Answer proxy) {
        List<List<String>> a = reference.rows();
        List<List<String>> b = proxy.rows();
        if (a.size() != b.size()) {
            return "different row counts";
        }
        int start = 0;
        while (start < a.size()) {
            List<String> key = key(keys, reference.types(), a.get(start));
            int end = start + 1;
            while (end < a.size() && key.equals(key(keys, reference.types(), a.get(end)))) {
                end++;
            }
            for (int i = start; i < end; i++) {
                if (!key.equals(key(keys, reference.types(), b.get(i)))) {
                    return sameMultiset(a, b) ? "same rows in another order (row " + (i + 1) + ")" : "different rows";
                }
            }
            if (!sameMultiset(a.subList(start, end), b.subList(start, end))) {
                return "different rows among ties at rows " + (start + 1) + ".." + end;
            }
            start = end;
        }
        return null;
    }

    /**
     * The sort key of a row. Numerics that are equal sort as ties even when their text differs in
     * scale (avg of different groups: 2.5 and 2.50), so their text is normalized.
     */
    private static List<String> key(List<Integer> keys, List<String> types, List<String> row) {
        List<String> k = new ArrayList<>(keys.size());
        for (int i : keys) {
            String v = row.get(i);
            if (v != null && types.get(i).startsWith("numeric(")) {
                v = new BigDecimal(v).stripTrailingZeros().toPlainString();
            }
            k.add(Objects.toString(v, "\0NULL"));
        }
        return k;
    }
}
