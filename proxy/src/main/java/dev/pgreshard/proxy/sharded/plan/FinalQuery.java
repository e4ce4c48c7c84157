package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.proxy.sharded.merge.PgTypes;

import java.util.List;

/**
 * The statement the lead shard runs over the rows the shards returned, as a template. The shards' rows
 * arrive as one binary array per column, {@code unnest}ed as {@code _p(c0, c1, ...)}. Markers (NUL
 * cannot occur in SQL text) stand for what is known only once the shards answered:
 * <ul>
 *   <li>{@code \0F\0} the FROM item;</li>
 *   <li>{@code \0S\0} the client's own columns, each named as the shards named it;</li>
 *   <li>{@code \0C<k>\0} trailing column k with its collation (for text), {@code \0R<k>\0} without;</li>
 *   <li>{@code \0T<k>\0} the SQL type name of trailing column k.</li>
 * </ul>
 *
 * @param template      the statement with markers
 * @param collationOf   per trailing column, the trailing index of its {@code pg_collation_for} column, or -1
 * @param exactChecks   per trailing column, whether its type must be exactly summable (no float), or null
 * @param outputStrip   columns at the end of the final answer that the client must not see
 * @param collationTail columns at the end of the shard rows that only report collations (not passed on)
 * @param passThrough   per output column, the trailing column it shows unchanged (its RowDescription entry,
 *                      typmod included, is the shards'), or -1; null: the client's own columns are shown unchanged
 * @param unaliased     per output column, whether the client gave it no name (a column shown unchanged then takes
 *                      the name the shards gave the same expression); null: all keep the final statement's names
 */
public record FinalQuery(String template, int[] collationOf, String[] exactChecks, int outputStrip, int collationTail,
                         int[] passThrough, boolean[] unaliased) {
    static final char M = '\0';

    static String ref(int k) {
        return M + "C" + k + M;
    }

    static String raw(int k) {
        return M + "R" + k + M;
    }

    static String type(int k) {
        return M + "T" + k + M;
    }

    /**
     * The SQL for the lead shard, given the shards' row shape.
     *
     * @param names       column names of the shard rows (from RowDescription)
     * @param types       type OIDs of the shard rows
     * @param collations  per column, the collation the shards reported (quoted as PostgreSQL prints it) or null
     * @param trailing    how many columns at the end the planner added
     * @return the SQL, with {@code $1..$n} the arrays of the value columns (all but collation columns)
     * @throws IllegalArgumentException with a message for the client when a type cannot be merged exactly
     */
    public String render(List<String> names, int[] types, String[] collations, int trailing) {
        int base = names.size() - trailing;
        int valueColumns = names.size() - collationTail;
        StringBuilder from = new StringBuilder("unnest(");
        StringBuilder cols = new StringBuilder();
        for (int i = 0; i < valueColumns; i++) {
            String t = PgTypes.name(types[i]);
            if (t == null) {
                throw new IllegalArgumentException("column \"" + names.get(i) + "\" has a type (oid " + types[i]
                        + ") the proxy cannot pass between shards; cast it to a built-in type");
            }
            from.append(i == 0 ? "" : ", ").append('$').append(i + 1).append("::").append(t).append("[]");
            cols.append(i == 0 ? "" : ", ").append("c").append(i);
        }
        from.append(") AS _p(").append(cols).append(')');
        StringBuilder select = new StringBuilder();
        for (int i = 0; i < base; i++) {
            select.append(i == 0 ? "" : ", ").append("_p.c").append(i).append(" AS ").append(quote(names.get(i)));
        }
        StringBuilder out = new StringBuilder();
        String s = template;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != M) {
                out.append(c);
                i++;
                continue;
            }
            int end = s.indexOf(M, i + 1);
            char what = s.charAt(i + 1);
            String arg = s.substring(i + 2, end);
            switch (what) {
                case 'F' -> out.append(from);
                case 'S' -> out.append(select);
                case 'C', 'R', 'T' -> {
                    int k = Integer.parseInt(arg);
                    int col = base + k;
                    if (exactChecks != null && exactChecks[k] != null && PgTypes.isFloat(types[col])) {
                        throw new IllegalArgumentException(exactChecks[k]);
                    }
                    if (what == 'T') {
                        out.append(PgTypes.name(types[col]));
                    } else if (what == 'C' && collationOf[k] >= 0 && PgTypes.isCollatable(types[col])
                            && collations[base + collationOf[k]] != null) {
                        out.append("(_p.c").append(col).append(" COLLATE ").append(collations[base + collationOf[k]]).append(')');
                    } else {
                        out.append("_p.c").append(col);
                    }
                }
                default -> throw new IllegalStateException("bad marker " + what);
            }
            i = end + 1;
        }
        return out.toString();
    }

    /** Shows the template with readable markers (EXPLAIN ROUTE). */
    public String describe() {
        return template.replace(M + "F" + M, "<shard rows>").replace(M + "S" + M, "<columns>")
                .replaceAll("\0[CR](\\d+)\0", "_p.t$1").replaceAll("\0T(\\d+)\0", "<type of t$1>");
    }

    /**
     * The shard column whose RowDescription entry output column {@code j} takes (type modifier, table and
     * column of origin), or -1 when the final statement computed it.
     */
    public int shardColumnOf(int j, int shardWidth, int trailing) {
        int base = shardWidth - trailing;
        if (passThrough == null) {
            return j < base ? j : -1;
        }
        return j < passThrough.length && passThrough[j] >= 0 ? base + passThrough[j] : -1;
    }

    /** Whether output column {@code j} is named as the shards named its expression. */
    public boolean namedByShards(int j) {
        return unaliased != null && j < unaliased.length && unaliased[j] && passThrough != null && passThrough[j] >= 0;
    }

    static String quote(String name) {
        return '"' + name.replace("\"", "\"\"") + '"';
    }
}
