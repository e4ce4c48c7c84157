package dev.pgreshard.activities.replication;

import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Column;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Relation;
import dev.pgreshard.activities.replication.pgoutput.TupleData;
import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;

import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A replicated table as the latest Relation message describes it, with how its rows are routed on
 * the cluster written to (by the shard key, or to every shard when omnisharded) and the SQL that
 * applies its changes. Statements are cached per column set, so an UPDATE leaving TOASTed columns
 * out of its SET list still reuses one prepared statement.
 */
final class TableShape {
    /** Types without a default equality operator: a REPLICA IDENTITY FULL match compares their text. */
    private static final Set<Integer> NO_EQUALITY_TYPES = Set.of(114 /* json */, 142 /* xml */, 600 /* point */,
            601 /* lseg */, 603 /* box */, 604 /* polygon */, 628 /* line */, 718 /* circle */, 199 /* json[] */);

    private final Relation relation;
    private final TableName table;
    private final boolean identityFull;
    private final int shardKeyColumn;
    private final ShardFunction shardFunction;
    /** Columns GENERATED ALWAYS AS IDENTITY on the cluster written to. */
    private final BitSet generatedAlways = new BitSet();
    private final Map<SqlKey, SqlTemplate> sql = new ConcurrentHashMap<>();

    private record SqlKey(char op, BitSet set, BitSet where) {
    }

    /** @param generatedAlways the names of the columns GENERATED ALWAYS AS IDENTITY on the cluster written to */
    TableShape(Relation relation, Cluster writeCluster, Set<String> generatedAlways) {
        this.relation = relation;
        this.table = new TableName(relation.namespace(), relation.name());
        this.identityFull = relation.replicaIdentity() == Relation.IDENTITY_FULL;
        for (int i = 0; i < relation.columns().size(); i++) {
            if (generatedAlways.contains(relation.columns().get(i).name())) {
                this.generatedAlways.set(i);
            }
        }
        Optional<ShardFunction> fn = writeCluster.shardFunction(table);
        this.shardFunction = fn.orElse(null);
        if (fn.isPresent()) {
            String keyName = writeCluster.shardedTable(table).orElseThrow().column();
            int idx = indexOf(keyName);
            if (idx < 0) {
                throw new SchemaDriftException(table + " on the source has no column \"" + keyName + "\", the shard key "
                        + "configured in [[sharded_tables]] for " + writeCluster.name() + "; fix the config or the schema");
            }
            this.shardKeyColumn = idx;
        } else {
            this.shardKeyColumn = -1;
        }
    }

    Relation relation() {
        return relation;
    }

    TableName table() {
        return table;
    }

    List<Column> columns() {
        return relation.columns();
    }

    int indexOf(String column) {
        List<Column> cols = relation.columns();
        for (int i = 0; i < cols.size(); i++) {
            if (cols.get(i).name().equals(column)) {
                return i;
            }
        }
        return -1;
    }

    boolean isSharded() {
        return shardFunction != null;
    }

    /** The shard of a row given by {@code tuple}, or -1 if the key value is not in the tuple. */
    int shardOf(TupleData tuple) {
        if (tuple == null || tuple.isUnchangedToast(shardKeyColumn)) {
            return -1;
        }
        return shardFunction.shardOfText(tuple.text(shardKeyColumn));
    }

    /**
     * The columns that identify the old row: the replica identity key columns, or with REPLICA
     * IDENTITY FULL every column present in the old tuple — bit {@code i} for a column matched by
     * value, bit {@code columnCount + i} for a column that must be NULL (no value to bind: the
     * statement says {@code IS NULL}, so the column set and its NULLs together key the statement).
     */
    BitSet identityColumns(TupleData old) {
        BitSet where = new BitSet();
        List<Column> cols = relation.columns();
        for (int i = 0; i < cols.size(); i++) {
            if (identityFull ? !old.isUnchangedToast(i) : cols.get(i).isKey()) {
                where.set(identityFull && old.isNull(i) ? cols.size() + i : i);
            }
        }
        if (where.isEmpty()) {
            throw new SchemaDriftException(table + " has no replica identity (REPLICA IDENTITY NOTHING, or DEFAULT "
                    + "without a primary key): its UPDATE/DELETE cannot be matched on the destination; "
                    + "add a primary key or ALTER TABLE " + table.quoted() + " REPLICA IDENTITY FULL");
        }
        return where;
    }

    /** Columns with a value in {@code tuple} (not unchanged TOAST). */
    static BitSet presentColumns(TupleData tuple) {
        BitSet set = new BitSet();
        for (int i = 0; i < tuple.size(); i++) {
            if (!tuple.isUnchangedToast(i)) {
                set.set(i);
            }
        }
        return set;
    }

    /** Columns GENERATED ALWAYS AS IDENTITY on the cluster written to (a copy). */
    BitSet generatedAlways() {
        return (BitSet) generatedAlways.clone();
    }

    /**
     * The old value of column {@code i} of an updated row, or null when the change does not carry
     * it: with REPLICA IDENTITY FULL the old tuple has every column; otherwise an old tuple (sent
     * when the key changed) has the key columns, and without one the key did not change.
     */
    String oldValue(int i, TupleData old, TupleData newRow) {
        if (old == null) {
            return relation.columns().get(i).isKey() && !newRow.isUnchangedToast(i) ? newRow.text(i) : null;
        }
        boolean sent = identityFull || relation.columns().get(i).isKey();
        return sent && i < old.size() && !old.isUnchangedToast(i) ? old.text(i) : null;
    }

    /**
     * {@code INSERT INTO t (cols) VALUES (v, ...)}; with {@code OVERRIDING SYSTEM VALUE} when the
     * table has a GENERATED ALWAYS identity column (the source's value must be kept, not a new one drawn).
     */
    SqlTemplate insertSql(BitSet columns) {
        return sql.computeIfAbsent(new SqlKey('I', columns, null), k -> {
            SqlTemplate.Builder b = new SqlTemplate.Builder(table).text("INSERT INTO " + table.quoted() + " (");
            StringBuilder names = new StringBuilder();
            forEach(columns, i -> sep(names, ", ").append(col(i)));
            b.text(names + ")" + (columns.intersects(generatedAlways) ? " OVERRIDING SYSTEM VALUE" : "") + " VALUES (");
            boolean[] first = {true};
            forEach(columns, i -> {
                if (!first[0]) {
                    b.text(", ");
                }
                first[0] = false;
                b.slot();
            });
            return b.text(")").build();
        });
    }

    /** {@code UPDATE t SET set-cols = v WHERE identity match}; values: the SET values, then the WHERE values. */
    SqlTemplate updateSql(BitSet set, BitSet where) {
        return sql.computeIfAbsent(new SqlKey('U', set, where), k -> {
            SqlTemplate.Builder b = new SqlTemplate.Builder(table).text("UPDATE " + table.quoted() + " SET ");
            boolean[] first = {true};
            forEach(set, i -> {
                b.text((first[0] ? "" : ", ") + col(i) + " = ").slot();
                first[0] = false;
            });
            b.text(" WHERE ");
            return match(b, where).build();
        });
    }

    /**
     * After an UPDATE that left the GENERATED ALWAYS identity columns {@code identity} out of its SET
     * list (they cannot be assigned) while their old value is unknown: if the row, found by its new
     * key {@code key}, holds other identity values than the new tuple's, it is deleted and inserted
     * again with them (what {@code UPDATE ... SET id = DEFAULT} did on the source). A no-op otherwise.
     * Values: the key's, then the identity values twice (compared, then inserted).
     */
    SqlTemplate reassignIdentitySql(BitSet key, BitSet identity) {
        return sql.computeIfAbsent(new SqlKey('A', identity, key), k -> {
            SqlTemplate.Builder b = new SqlTemplate.Builder(table).text("WITH moved AS (DELETE FROM " + table.quoted()
                    + " WHERE ");
            match(b, key).text(" AND (");
            boolean[] first = {true};
            forEach(identity, i -> {
                b.text((first[0] ? "" : " OR ") + col(i) + " IS DISTINCT FROM ").slot().text("::" + integerType(i));
                first[0] = false;
            });
            StringBuilder names = new StringBuilder();
            for (int i = 0; i < relation.columns().size(); i++) {
                sep(names, ", ").append(col(i));
            }
            b.text(") RETURNING *) INSERT INTO " + table.quoted() + " (" + names + ") OVERRIDING SYSTEM VALUE SELECT ");
            for (int i = 0; i < relation.columns().size(); i++) {
                b.text(i == 0 ? "" : ", ");
                if (identity.get(i)) {
                    b.slot().text("::" + integerType(i));
                } else {
                    b.text("moved." + col(i));
                }
            }
            return b.text(" FROM moved").build();
        });
    }

    /** Identity columns are smallint, integer or bigint (PostgreSQL allows nothing else). */
    private String integerType(int i) {
        return switch (relation.columns().get(i).typeOid()) {
            case 21 -> "int2";
            case 23 -> "int4";
            default -> "int8";
        };
    }

    /** {@code DELETE FROM t WHERE identity match}. */
    SqlTemplate deleteSql(BitSet where) {
        return sql.computeIfAbsent(new SqlKey('D', null, where),
                k -> match(new SqlTemplate.Builder(table).text("DELETE FROM " + table.quoted() + " WHERE "), where).build());
    }

    /** A DELETE that returns the values of {@code returning}, for a row moving shards with unchanged TOAST columns. */
    SqlTemplate deleteReturningSql(BitSet where, BitSet returning) {
        return sql.computeIfAbsent(new SqlKey('R', returning, where), k -> {
            StringBuilder cols = new StringBuilder();
            forEach(returning, i -> sep(cols, ", ").append(col(i)).append("::text"));
            return match(new SqlTemplate.Builder(table).text("DELETE FROM " + table.quoted() + " WHERE "), where)
                    .text(" RETURNING " + cols).build();
        });
    }

    /**
     * With a key: {@code k1 = v AND k2 = v}. With REPLICA IDENTITY FULL there may be no key and
     * duplicate rows, so exactly one row is picked, NULLs matching NULLs:
     * {@code ctid = (SELECT ctid FROM t WHERE c1 = v AND c2 IS NULL ... LIMIT 1)} — plain equality
     * (not IS NOT DISTINCT FROM, which no index serves), so an index on any of the columns finds the row.
     */
    private SqlTemplate.Builder match(SqlTemplate.Builder b, BitSet where) {
        boolean[] first = {true};
        if (!identityFull) {
            forEach(where, i -> {
                b.text((first[0] ? "" : " AND ") + col(i) + " = ").slot();
                first[0] = false;
            });
            return b;
        }
        b.text("ctid = (SELECT ctid FROM " + table.quoted() + " WHERE ");
        int n = relation.columns().size();
        forEach(where, i -> {
            b.text(first[0] ? "" : " AND ");
            first[0] = false;
            if (i >= n) {
                b.text(col(i - n) + " IS NULL");
            } else if (NO_EQUALITY_TYPES.contains(relation.columns().get(i).typeOid())) {
                b.text(col(i) + "::text = ").slot().text("::text");
            } else {
                b.text(col(i) + " = ").slot();
            }
        });
        return b.text(" LIMIT 1)");
    }

    private String col(int i) {
        return Identifiers.quote(relation.columns().get(i).name());
    }

    private static StringBuilder sep(StringBuilder sb, String separator) {
        if (!sb.isEmpty()) {
            sb.append(separator);
        }
        return sb;
    }

    private static void forEach(BitSet set, java.util.function.IntConsumer action) {
        for (int i = set.nextSetBit(0); i >= 0; i = set.nextSetBit(i + 1)) {
            action.accept(i);
        }
    }
}
