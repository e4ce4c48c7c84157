package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.sequence.SequenceCatalog;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * The plan's view of the sequences the cutover spaces on the destination ({@link SequenceCatalog} finds
 * them, the cutover's own discovery): owned by a column (serial, bigserial), an identity column's, or named
 * in a column default ({@code nextval}). Logical replication does not carry sequence values, so these are
 * the ids that would collide without the cutover's sequence step.
 */
final class SequenceReport {
    /**
     * @param sequence  the sequence
     * @param table     the (first) table whose column uses it
     * @param column    that column
     * @param kind      serial (owned by the column), identity or default (nextval in a default it does not own)
     * @param lastValue the highest value over the source shards seen so far; null when never used
     *                  (or not readable by the role)
     */
    record Found(TableName sequence, TableName table, String column, String kind, Long lastValue) {
        Found higher(Found other) {
            if (lastValue == null) {
                return other;
            }
            return other.lastValue == null || lastValue >= other.lastValue ? this : other;
        }
    }

    private SequenceReport() {
    }

    static List<Found> of(Connection c, List<TableName> tables) throws SQLException {
        List<Found> found = new ArrayList<>();
        if (tables.isEmpty()) {
            return found;
        }
        List<SequenceCatalog.FeedingSequence> feeding = SequenceCatalog.feeding(c, tables);
        Map<TableName, SequenceCatalog.State> states = SequenceCatalog.states(c,
                feeding.stream().map(SequenceCatalog.FeedingSequence::sequence).toList());
        for (SequenceCatalog.FeedingSequence f : feeding) {
            SequenceCatalog.Feed feed = f.feeds().get(0);
            SequenceCatalog.State state = states.get(f.sequence());
            found.add(new Found(f.sequence(), feed.table(), feed.column(), feed.kind().equals("owned") ? "serial" : feed.kind(),
                    state == null ? null : state.lastValue()));
        }
        return found;
    }

    /** One line per sequence, for the report. */
    static List<String> describe(Collection<Found> found) {
        List<String> lines = new ArrayList<>();
        for (Found f : found) {
            lines.add(f.sequence() + " (" + f.kind() + " of " + f.table() + "." + f.column() + "): "
                    + (f.lastValue() == null ? "not used yet (or not readable by the user)" : "at " + f.lastValue() + " on the source")
                    + "; the cutover spaces it on the destination shards so that no two shards draw the same value");
        }
        return lines;
    }
}
