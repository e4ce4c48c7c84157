package dev.pgreshard.activities.support;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;

import java.util.List;

/** Configs for tests: cluster "src" and cluster "dst" made of test databases. */
public final class Clusters {
    public static final TaskRef TASK = new TaskRef("reshard-src-dst-1", "src", "dst", "pub");

    private Clusters() {
    }

    /** pgreshard.toml text: {@code extra} (e.g. [general] keys, [[sharded_tables]]) then the databases. */
    public static String toml(List<TestDatabase> sources, List<TestDatabase> destinations, String extra) {
        StringBuilder b = new StringBuilder(extra).append('\n');
        for (int i = 0; i < sources.size(); i++) {
            b.append(sources.get(i).databasesEntry("src", i));
        }
        for (int i = 0; i < destinations.size(); i++) {
            b.append(destinations.get(i).databasesEntry("dst", i));
        }
        return b.toString();
    }

    public static String users(TestDatabase any) {
        return any.usersEntry("src") + any.usersEntry("dst");
    }

    public static PgReshardConfig config(List<TestDatabase> sources, List<TestDatabase> destinations, String extra) {
        return ConfigLoader.parse("pgreshard.toml", toml(sources, destinations, extra), "users.toml",
                users(sources.get(0)));
    }

    public static String sharded(String table, String column, String type) {
        return shardedIn("dst", table, column, type);
    }

    /** A [[sharded_tables]] entry for cluster {@code database}. */
    public static String shardedIn(String database, String table, String column, String type) {
        return "[[sharded_tables]]\ndatabase = \"" + database + "\"\nname = \"" + table + "\"\ncolumn = \"" + column
                + "\"\ndata_type = \"" + type + "\"\n";
    }

    /** Every row of {@code sql} on every database, as text, sorted: compares a source with the union of shards. */
    public static List<String> rows(List<TestDatabase> dbs, String sql) {
        return dbs.stream().flatMap(d -> d.queryRows(sql).stream()).map(Object::toString).sorted().toList();
    }
}
