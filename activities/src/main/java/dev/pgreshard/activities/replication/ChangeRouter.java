package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.replication.ProgressTable.Progress;
import dev.pgreshard.activities.replication.pgoutput.PgOutputDecoder;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Begin;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Commit;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Delete;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Insert;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.LogicalMessage;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Relation;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Truncate;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Update;
import dev.pgreshard.activities.replication.pgoutput.TupleData;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Future;

/**
 * Turns the decoded messages of one source shard into SQL on the destination shards: routes each
 * row change by the shard key (or to every shard for an omnisharded table), splits a shard-key
 * change into DELETE + INSERT, skips what a shard already has (its progress) and what the table's
 * copy snapshot already contained. Not thread-safe: one per stream.
 */
final class ChangeRouter {
    private static final Logger log = LoggerFactory.getLogger(ChangeRouter.class);
    /** Our own bookkeeping schema is never replicated (a FOR ALL TABLES publication would include it). */
    private static final String OWN_SCHEMA = "pgreshard";

    private final Cluster writeCluster;
    /** Null unless this stream reads a shard > 0 of a multi-shard cluster (see {@link #readsAFullCopy}). */
    private final Cluster fullCopyReadCluster;
    private final List<ShardApplier> shards;
    private final Map<TableName, Lsn> copySnapshots;
    private final SchemaCheck schemaCheck;
    private final Map<Integer, TableShape> relations = new HashMap<>();
    private final Set<Integer> ownRelations = new HashSet<>();

    // the source transaction being read
    private boolean inTransaction;
    private Lsn txCommitLsn = Lsn.INVALID;
    private final boolean[] skipShard;

    // committed source transactions not yet committed on the destination shards
    private Progress pending;
    private List<Future<?>> inFlightCommits = List.of();
    private long inFlightChanges;
    private int pendingTransactions;
    private long pendingChanges;
    private long changesApplied;
    private boolean flushRequested;

    /**
     * @param readCluster the cluster the stream reads, {@code readShard} the shard it reads: an
     *                    unsharded table has a full copy on every shard of a multi-shard cluster, so
     *                    its changes are taken from shard 0 only (applying each shard's copy would
     *                    repeat every change once per shard)
     */
    ChangeRouter(Cluster readCluster, int readShard, Cluster writeCluster, List<ShardApplier> shards,
                 Map<TableName, Lsn> copySnapshots) {
        this.fullCopyReadCluster = readShard > 0 && readCluster.shardCount() > 1 ? readCluster : null;
        this.writeCluster = writeCluster;
        this.shards = shards;
        this.copySnapshots = copySnapshots;
        this.schemaCheck = new SchemaCheck(shards);
        this.skipShard = new boolean[shards.size()];
    }

    /** True once after a cutover marker was read: the batch holding it should commit at once, not wait to fill. */
    boolean takeFlushRequest() {
        boolean requested = flushRequested;
        flushRequested = false;
        return requested;
    }

    boolean inTransaction() {
        return inTransaction;
    }

    int pendingTransactions() {
        return pendingTransactions;
    }

    long pendingChanges() {
        return pendingChanges;
    }

    long changesApplied() {
        return changesApplied;
    }

    /** The least progress over all destination shards (what the slot may be confirmed to). */
    Progress durable() {
        Progress min = null;
        for (ShardApplier s : shards) {
            Progress p = s.durable();
            if (min == null || p.commitLsn().isBefore(min.commitLsn())) {
                min = p;
            }
        }
        return min == null ? Progress.NONE : min;
    }

    void handle(PgOutputMessage message) throws SQLException {
        switch (message.type()) {
            case BEGIN -> begin((Begin) message);
            case COMMIT -> commit((Commit) message);
            case RELATION -> relation((Relation) message);
            case INSERT -> insert((Insert) message);
            case UPDATE -> update((Update) message);
            case DELETE -> delete((Delete) message);
            case TRUNCATE -> truncate((Truncate) message);
            case MESSAGE -> {
                // a cutover's marker: clients are paused and waiting for exactly this transaction
                if (CutoverMarker.PREFIX.equals(((LogicalMessage) message).prefix())) {
                    flushRequested = true;
                }
            }
            case TYPE, ORIGIN -> {
                // types are applied by their text form; origins carry nothing to apply
            }
        }
    }

    private void begin(Begin b) {
        inTransaction = true;
        txCommitLsn = b.finalLsn();
        for (int i = 0; i < shards.size(); i++) {
            // exactly once: this shard committed this transaction before a crash or restart
            skipShard[i] = !b.finalLsn().isAfter(shards.get(i).durable().commitLsn());
        }
    }

    private void commit(Commit c) {
        inTransaction = false;
        pending = new Progress(c.commitLsn(), c.endLsn(), PgOutputDecoder.toEpochMillis(c.commitTimeMicros()));
        pendingTransactions++;
    }

    /** Commits the pending source transactions on every destination shard and waits; returns what is durable everywhere. */
    Progress flush() throws SQLException {
        flushAsync();
        return awaitCommits();
    }

    /**
     * Starts committing the pending source transactions on every destination shard (each shard's
     * worker sends its last chunk, writes the progress row and commits; their fsyncs overlap) and
     * returns at once, so the stream reads the next batch meanwhile. At most one batch is in
     * commit: the previous one is waited for first. Returns what is durable everywhere after that wait.
     */
    Progress flushAsync() throws SQLException {
        Progress durable = awaitCommits();
        if (pending == null) {
            return durable;
        }
        List<Future<?>> commits = new ArrayList<>(shards.size());
        for (ShardApplier s : shards) {
            commits.add(s.commit(pending));
        }
        inFlightCommits = commits;
        inFlightChanges = pendingChanges;
        pending = null;
        pendingTransactions = 0;
        pendingChanges = 0;
        return durable;
    }

    /** True when a batch is being committed. */
    boolean committing() {
        return !inFlightCommits.isEmpty();
    }

    /** True when the batch being committed (if any) is committed (or failed) on every shard. */
    boolean commitsDone() {
        return inFlightCommits.stream().allMatch(Future::isDone);
    }

    /**
     * Waits for the batch being committed. A failure leaves some shards committed and others not;
     * their progress rows say which, and the next run skips exactly what each shard already has.
     */
    Progress awaitCommits() throws SQLException {
        SQLException first = null;
        for (Future<?> f : inFlightCommits) {
            try {
                ShardApplier.await(f);
            } catch (SQLException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
        if (!inFlightCommits.isEmpty()) {
            changesApplied += inFlightChanges;
            inFlightCommits = List.of();
            inFlightChanges = 0;
        }
        return durable();
    }

    void rollback() {
        inFlightCommits = List.of();
        shards.forEach(ShardApplier::rollback);
        pending = null;
        pendingTransactions = 0;
        pendingChanges = 0;
        inTransaction = false;
    }

    private void relation(Relation r) throws SQLException {
        if (r.namespace().equals(OWN_SCHEMA)) {
            relations.remove(r.relationId());
            ownRelations.add(r.relationId());
            return;
        }
        Set<String> generatedAlways = schemaCheck.verify(new TableName(r.namespace(), r.name()), r.columns());
        relations.put(r.relationId(), new TableShape(r, writeCluster, generatedAlways));
    }

    /** The table of a change, or null when the change must not be applied (own schema, before the copy snapshot). */
    private TableShape table(int relationId) {
        TableShape shape = relations.get(relationId);
        if (shape == null) {
            if (ownRelations.contains(relationId)) {
                return null;
            }
            throw new IllegalStateException("pgoutput sent a change of relation " + relationId + " before its Relation "
                    + "message; the stream is out of order");
        }
        if (readsAFullCopy(shape)) {
            return null;
        }
        Lsn snapshot = copySnapshots.get(shape.table());
        if (snapshot != null && txCommitLsn.isBefore(snapshot)) {
            return null; // committed before the table's copy snapshot: the copy already has it
        }
        return shape;
    }

    /** An unsharded table read from a shard other than 0: shard 0's stream carries its changes. */
    private boolean readsAFullCopy(TableShape shape) {
        return fullCopyReadCluster != null && !fullCopyReadCluster.isSharded(shape.table());
    }

    private void insert(Insert m) throws SQLException {
        TableShape t = table(m.relationId());
        if (t == null) {
            return;
        }
        TupleData row = m.newTuple();
        BitSet columns = TableShape.presentColumns(row);
        SqlTemplate sql = t.insertSql(columns);
        List<String> execute = values(row, columns);
        if (t.isSharded()) {
            apply(t.shardOf(row), sql, execute, false);
        } else {
            applyAll(sql, execute, false);
        }
    }

    private void update(Update m) throws SQLException {
        TableShape t = table(m.relationId());
        if (t == null) {
            return;
        }
        TupleData newRow = m.newTuple();
        // without an old tuple the identity did not change: the new tuple's key columns find the row
        TupleData old = m.oldTuple() != null ? m.oldTuple() : newRow;
        BitSet where = t.identityColumns(old);
        if (t.isSharded()) {
            int newShard = t.shardOf(newRow);
            int oldShard = m.oldTuple() != null ? t.shardOf(old) : newShard;
            if (newShard < 0) {
                newShard = oldShard; // key column sent as unchanged TOAST: it did not change
            }
            if (oldShard >= 0 && oldShard != newShard) {
                moveRow(t, oldShard, newShard, old, where, newRow);
                return;
            }
            updateOn(newShard, t, where, m.oldTuple(), newRow);
        } else {
            for (int s = 0; s < shards.size(); s++) {
                updateOn(s, t, where, m.oldTuple(), newRow);
            }
        }
    }

    /** @param oldTuple the change's old tuple, null when it has none (the key did not change) */
    private void updateOn(int shard, TableShape t, BitSet where, TupleData oldTuple, TupleData newRow)
            throws SQLException {
        if (skipShard[shard]) {
            return;
        }
        TupleData old = oldTuple != null ? oldTuple : newRow;
        BitSet set = TableShape.presentColumns(newRow); // unchanged TOAST values stay as they are
        BitSet identity = t.generatedAlways();
        identity.and(set);
        BitSet unknown = new BitSet();
        // a GENERATED ALWAYS identity column cannot be SET: leave it out when it keeps its value, move the
        // row (DELETE + INSERT ... OVERRIDING SYSTEM VALUE) when it changed
        for (int i = identity.nextSetBit(0); i >= 0; i = identity.nextSetBit(i + 1)) {
            String was = t.oldValue(i, oldTuple, newRow);
            if (was == null) {
                unknown.set(i);
            } else if (!was.equals(newRow.text(i))) {
                moveRow(t, shard, shard, old, where, newRow);
                return;
            }
        }
        set.andNot(identity);
        if (!set.isEmpty()) {
            List<String> values = values(newRow, set);
            values.addAll(values(old, where));
            SqlTemplate sql = t.updateSql(set, where);
            shards.get(shard).execute(sql, values, true);
            pendingChanges++;
        }
        if (!unknown.isEmpty()) {
            // the old value of a non-key identity column is not in the change: let the shard compare
            BitSet key = new BitSet();
            key.or(where);
            List<String> values = values(newRow, key);
            List<String> ids = values(newRow, unknown);
            values.addAll(ids);
            values.addAll(ids);
            SqlTemplate sql = t.reassignIdentitySql(key, unknown);
            shards.get(shard).execute(sql, values, false);
        }
    }

    /**
     * An UPDATE that changed the shard key: DELETE on the old shard, INSERT of the new row on the new
     * one. Columns the new tuple left out (unchanged TOAST) come from the old tuple (REPLICA
     * IDENTITY FULL sends it whole) or, failing that, from the deleted row itself.
     */
    private void moveRow(TableShape t, int oldShard, int newShard, TupleData old, BitSet where, TupleData newRow)
            throws SQLException {
        int n = newRow.size();
        String[] full = new String[n];
        BitSet missing = new BitSet();
        for (int i = 0; i < n; i++) {
            if (!newRow.isUnchangedToast(i)) {
                full[i] = newRow.text(i);
            } else if (old != newRow && i < old.size() && !old.isUnchangedToast(i)
                    && (t.relation().replicaIdentity() == Relation.IDENTITY_FULL || t.columns().get(i).isKey())) {
                full[i] = old.text(i);
            } else {
                missing.set(i);
            }
        }
        List<String> whereValues = values(old, where);
        if (!missing.isEmpty()) {
            if (skipShard[oldShard]) {
                throw new IllegalStateException(t.table() + ": a row moved from " + writeCluster.shard(oldShard).describe()
                        + " (already past this transaction after a restart) keeps TOASTed values that only that shard "
                        + "had; set REPLICA IDENTITY FULL on the source table and restart the task");
            }
            SqlTemplate deleteReturning = t.deleteReturningSql(where, missing);
            List<String> returned = shards.get(oldShard).deleteReturning(deleteReturning,
                    deleteReturning.render(whereValues), missing.cardinality());
            if (returned == null) {
                throw new IllegalStateException(t.table() + ": the row moving off " + writeCluster.shard(oldShard).describe()
                        + " was not found there; the destination differs from the source — verify the task");
            }
            int r = 0;
            for (int i = missing.nextSetBit(0); i >= 0; i = missing.nextSetBit(i + 1)) {
                full[i] = returned.get(r++);
            }
            pendingChanges++;
        } else if (!skipShard[oldShard]) {
            SqlTemplate delete = t.deleteSql(where);
            shards.get(oldShard).execute(delete, whereValues, true);
            pendingChanges++;
        }
        BitSet all = new BitSet();
        all.set(0, n);
        List<String> values = new ArrayList<>(n);
        for (String v : full) {
            values.add(v);
        }
        SqlTemplate insert = t.insertSql(all);
        apply(newShard, insert, values, false);
    }

    private void delete(Delete m) throws SQLException {
        TableShape t = table(m.relationId());
        if (t == null) {
            return;
        }
        BitSet where = t.identityColumns(m.oldTuple());
        SqlTemplate sql = t.deleteSql(where);
        List<String> execute = values(m.oldTuple(), where);
        if (t.isSharded()) {
            apply(t.shardOf(m.oldTuple()), sql, execute, true);
        } else {
            applyAll(sql, execute, true);
        }
    }

    private void truncate(Truncate m) throws SQLException {
        List<String> names = new ArrayList<>();
        for (int id : m.relationIds()) {
            TableShape t = table(id);
            if (t != null) {
                names.add(t.table().quoted());
            }
        }
        if (names.isEmpty()) {
            return;
        }
        String sql = "TRUNCATE " + String.join(", ", names) + (m.restartIdentity() ? " RESTART IDENTITY" : "")
                + (m.cascade() ? " CASCADE" : "");
        log.info("applying {} to every shard of {}", sql, writeCluster.name());
        for (int s = 0; s < shards.size(); s++) {
            if (!skipShard[s]) {
                shards.get(s).executeNow(String.join(", ", names), sql);
                pendingChanges++;
            }
        }
    }

    private void apply(int shard, SqlTemplate sql, List<String> execute, boolean countsRows) throws SQLException {
        if (!skipShard[shard]) {
            shards.get(shard).execute(sql, execute, countsRows);
            pendingChanges++;
        }
    }

    private void applyAll(SqlTemplate sql, List<String> execute, boolean countsRows) throws SQLException {
        for (int s = 0; s < shards.size(); s++) {
            apply(s, sql, execute, countsRows);
        }
    }

    /** The values of {@code columns} in {@code tuple}; bits past the tuple's columns (IS NULL matches) bind nothing. */
    private static List<String> values(TupleData tuple, BitSet columns) {
        List<String> out = new ArrayList<>(columns.cardinality() + 4);
        for (int i = columns.nextSetBit(0); i >= 0 && i < tuple.size(); i = columns.nextSetBit(i + 1)) {
            out.add(tuple.text(i));
        }
        return out;
    }
}
