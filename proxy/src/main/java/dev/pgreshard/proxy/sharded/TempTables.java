package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.proxy.routing.Identifiers;
import dev.pgreshard.proxy.routing.ParsedSql;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.drop.Drop;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.util.TablesNamesFinder;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A sharded session's temporary tables (and temporary views and sequences). In one PostgreSQL they are the
 * session's own and hold their rows once; so the proxy creates them on one shard only, the session's home
 * shard ({@link #HOME}), and sends every statement that names one there, alone. A write to them is then a
 * write on one shard, committed one-phase: PostgreSQL cannot PREPARE a transaction that touched temporary
 * objects, so a transaction that uses them may write on no other shard (see
 * {@link TransactionState#tempBlocksCommit}). A statement that combines a temporary table with a sharded
 * table (whose rows are on every shard), or that writes another table from one, cannot run on one shard and
 * is refused, naming what to do instead.
 *
 * <p>Names are tracked as PostgreSQL scopes them: created in a transaction, a name is forgotten again if that
 * transaction rolls back; {@code ON COMMIT DROP} ends it at commit; DROP, {@code DISCARD TEMP} and
 * {@code DISCARD ALL} end it. Savepoints are not followed (a ROLLBACK TO that undoes a CREATE TEMP leaves the
 * name routed to the home shard, where PostgreSQL then reports that it does not exist).
 */
final class TempTables {
    /** The shard that holds the session's temporary objects. */
    static final int HOME = 0;

    private static final String NAME = "(?:\"(?:[^\"]|\"\")+\"|[\\w$]+)";
    private static final Pattern CREATE = Pattern.compile("^\\s*create\\s+(?:or\\s+replace\\s+)?(?:(?:global|local)\\s+)?"
            + "(?:temp|temporary)\\s+(?:unlogged\\s+)?(?:recursive\\s+)?(table|view|sequence)\\s+(?:if\\s+not\\s+exists\\s+)?"
            + "((?:pg_temp\\s*\\.\\s*)?" + NAME + ")", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern CREATE_IN_PG_TEMP = Pattern.compile("^\\s*create\\s+(?:unlogged\\s+)?(table|view|sequence)\\s+"
            + "(?:if\\s+not\\s+exists\\s+)?(pg_temp\\s*\\.\\s*" + NAME + ")", Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern ON_COMMIT_DROP = Pattern.compile("\\bon\\s+commit\\s+drop\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern AS_QUERY = Pattern.compile("\\)?\\s+as\\s*\\(?\\s*(select|table|values|with)\\b",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern DISCARD = Pattern.compile("^\\s*discard\\s+(all|temp|temporary)\\b", Pattern.CASE_INSENSITIVE);

    /**
     * What a statement does with temporary objects: {@code creates} or {@code drops} one (by name), or only uses
     * them; {@code refusal} when it cannot run on the home shard.
     */
    record Use(String creates, boolean dropOnCommit, String drops, String refusal) {
        static Use touch() {
            return new Use(null, false, null, null);
        }

        static Use refuse(String message) {
            return new Use(null, false, null, message);
        }
    }

    /** Names (unquoted, as PostgreSQL stores them) of the temporary objects that exist outside the open transaction. */
    private final Set<String> live = new HashSet<>();
    private final Set<String> createdInTx = new HashSet<>();
    private final Set<String> droppedInTx = new HashSet<>();
    private final Set<String> dropAtCommit = new HashSet<>();

    boolean any() {
        return !live.isEmpty() || !createdInTx.isEmpty();
    }

    private boolean known(String name) {
        return (live.contains(name) || createdInTx.contains(name)) && !droppedInTx.contains(name);
    }

    /** How {@code parsed} involves temporary objects, or null when it does not (route it as usual). */
    Use use(Cluster cluster, ParsedSql parsed) {
        String sql = parsed.sql();
        if (startsWithCreate(sql)) {
            Matcher create = CREATE.matcher(sql);
            if (create.find() || (create = CREATE_IN_PG_TEMP.matcher(sql)).find()) {
                return creation(cluster, parsed, create.group(1).toLowerCase(Locale.ROOT), unqualified(create.group(2)));
            }
        }
        if (!any() && !mentionsPgTemp(sql)) {
            return null; // the common case, on every statement: no allocation
        }
        if (parsed.copy() != null) {
            TableName t = parsed.copy().table();
            return t != null && (t.schema().equals("pg_temp") || (t.schema().equals("public") && known(t.name()))) ? Use.touch() : null;
        }
        List<String> temps = new ArrayList<>();
        for (Statement s : parsed.statements()) {
            for (String table : tables(s)) {
                if (isTemp(table)) {
                    temps.add(unqualified(table));
                }
            }
        }
        if (temps.isEmpty()) {
            return null;
        }
        String temp = temps.get(0);
        if (parsed.statements().size() > 1) {
            return Use.refuse("a query of several statements uses temporary table " + temp + ", which the proxy keeps on "
                    + "one shard; send its statements one at a time");
        }
        Statement s = parsed.statements().get(0);
        for (String table : tables(s)) {
            if (!isTemp(table) && cluster.isSharded(Identifiers.tableName(table))) {
                return Use.refuse("this statement uses temporary table " + temp + ", which lives on one shard (" + HOME
                        + ") of '" + cluster.name() + "', together with sharded table " + Identifiers.tableName(table)
                        + ", whose rows are spread over all shards; one shard cannot answer it — read the sharded rows in "
                        + "a statement of their own");
            }
        }
        String target = writeTarget(s);
        if (target != null && !isTemp(target)) {
            return Use.refuse("this statement writes table " + Identifiers.tableName(target) + ", which every shard of '"
                    + cluster.name() + "' holds, from temporary table " + temp + ", which lives on one shard; write the rows "
                    + "from the application instead");
        }
        if (s instanceof Drop drop && drop.getName() != null && isTemp(drop.getName().toString())) {
            return new Use(null, false, unqualified(drop.getName().toString()), null);
        }
        return Use.touch();
    }

    private Use creation(Cluster cluster, ParsedSql parsed, String kind, String name) {
        String what = "CREATE TEMPORARY " + kind.toUpperCase(Locale.ROOT) + " " + name;
        if (parsed.statements().size() > 1) {
            return Use.refuse(what + " is in a query of several statements; send it as a statement of its own");
        }
        if (cluster.isSharded(new TableName("public", name))) {
            return Use.refuse(what + " would hide sharded table " + name + " of '" + cluster.name() + "' in this session, "
                    + "which the proxy cannot follow; give the temporary " + kind + " another name");
        }
        Matcher query = AS_QUERY.matcher(parsed.sql());
        if (query.find()) {
            List<String> read = parsed.statements().isEmpty() ? List.of() : tables(parsed.statements().get(0));
            for (String table : read) {
                if (!isTemp(table) && cluster.isSharded(Identifiers.tableName(table))) {
                    return Use.refuse(what + " AS ... reads sharded table " + Identifiers.tableName(table) + ", whose rows "
                            + "are spread over all shards, while a temporary " + kind + " lives on one shard (" + HOME + ") of '"
                            + cluster.name() + "'; create it empty and fill it from the application");
                }
            }
            if (parsed.statements().isEmpty() && cluster.shardedTables().keySet().stream()
                    .anyMatch(t -> Pattern.compile("\\b" + Pattern.quote(t.name()) + "\\b", Pattern.CASE_INSENSITIVE)
                            .matcher(parsed.sql().substring(query.start())).find())) {
                return Use.refuse(what + " AS ... mentions a sharded table, whose rows are spread over all shards, while a "
                        + "temporary " + kind + " lives on one shard; create it empty and fill it from the application");
            }
        }
        return new Use(name, ON_COMMIT_DROP.matcher(parsed.sql()).find(), null, null);
    }

    private static boolean startsWithCreate(String sql) {
        int i = 0;
        while (i < sql.length() && Character.isWhitespace(sql.charAt(i))) {
            i++;
        }
        return sql.regionMatches(true, i, "create", 0, 6);
    }

    private static boolean mentionsPgTemp(String sql) {
        for (int i = sql.indexOf('_', 2); i >= 0; i = sql.indexOf('_', i + 1)) {
            if (sql.regionMatches(true, i - 2, "pg_temp", 0, 7)) {
                return true;
            }
        }
        return false;
    }

    private boolean isTemp(String table) {
        String t = table.replaceAll("\\s+", "");
        if (t.toLowerCase(Locale.ROOT).startsWith("pg_temp.")) {
            return true;
        }
        return !t.contains(".") && known(Identifiers.unquote(t));
    }

    private static String unqualified(String name) {
        String n = name.replaceAll("\\s+", "");
        return Identifiers.unquote(n.toLowerCase(Locale.ROOT).startsWith("pg_temp.") ? n.substring("pg_temp.".length()) : n);
    }

    private static List<String> tables(Statement s) {
        try {
            return new ArrayList<>(new TablesNamesFinder<>().getTables(s));
        } catch (RuntimeException e) {
            return List.of(); // syntax the finder does not walk
        }
    }

    /** The table an INSERT/UPDATE/DELETE/MERGE writes, or null for other statements. */
    private static String writeTarget(Statement s) {
        if (s instanceof Insert i) {
            return i.getTable().toString();
        }
        if (s instanceof Update u) {
            return u.getTable().toString();
        }
        if (s instanceof Delete d) {
            return d.getTable().toString();
        }
        if (s instanceof Merge m) {
            return m.getTable().toString();
        }
        return null;
    }

    /**
     * Why a statement is refused when it would make its transaction need two-phase commit over the home shard after
     * the transaction touched temporary objects there.
     */
    static String conflict(String cluster, boolean usesTemp, int[] targets) {
        String what = usesTemp ? "this statement uses a temporary table (kept on shard " + HOME + ")"
                : "this statement writes on shard(s) " + java.util.Arrays.toString(targets);
        return what + ", and this transaction would then have used temporary tables and written on shard " + HOME
                + " and on another shard of '" + cluster + "': PostgreSQL cannot commit that on both atomically, because "
                + "two-phase commit refuses a transaction that touched temporary objects; use temporary tables in a "
                + "transaction that writes only them (or only rows of shard " + HOME + "), or commit first";
    }

    /** After a successful CREATE TEMPORARY on the home shard. */
    void created(String name, boolean dropOnCommit, boolean inTransaction) {
        if (!inTransaction) {
            if (!dropOnCommit) {
                live.add(name); // ON COMMIT DROP in autocommit: gone when the statement ends
            }
            return;
        }
        createdInTx.add(name);
        droppedInTx.remove(name);
        if (dropOnCommit) {
            dropAtCommit.add(name);
        }
    }

    /** After a successful DROP of a temporary object. */
    void dropped(String name, boolean inTransaction) {
        if (inTransaction) {
            if (!createdInTx.remove(name)) {
                droppedInTx.add(name);
            }
            dropAtCommit.remove(name);
        } else {
            live.remove(name);
        }
    }

    /** The open transaction ended: its creations and drops take effect when it committed, else they are undone. */
    void transactionEnded(boolean committed) {
        if (committed) {
            live.addAll(createdInTx);
            live.removeAll(droppedInTx);
            live.removeAll(dropAtCommit);
        }
        createdInTx.clear();
        droppedInTx.clear();
        dropAtCommit.clear();
    }

    /** After a successful SET/RESET/DISCARD: DISCARD ALL and DISCARD TEMP drop every temporary object. */
    void onSessionCommand(String sql) {
        if (sql != null && DISCARD.matcher(sql).find()) {
            live.clear();
            createdInTx.clear();
            droppedInTx.clear();
            dropAtCommit.clear();
        }
    }
}
