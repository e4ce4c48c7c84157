package dev.pgreshard.cli;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyParseException;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** {@code pgreshard shard --database DB --table T VALUE...}: prints {@code VALUE<TAB>SHARD} per value. */
@Command(name = "shard", mixinStandardHelpOptions = true, description = "Print which shard of a sharded table each value maps to (VALUE<TAB>SHARD).")
public class ShardCommand implements Runnable {
    @Mixin
    ConfigOptions config;

    @Option(names = "--database", required = true, paramLabel = "DB", description = "cluster name ([[databases]] name)")
    String database;

    @Option(names = "--table", required = true, paramLabel = "T", description = "sharded table (table or schema.table)")
    String table;

    @Parameters(arity = "1..*", paramLabel = "VALUE", description = "shard-key values, parsed as the table's data_type")
    List<String> values;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PgReshardConfig cfg = config.load();
        Cluster cluster = Topology.of(cfg).cluster(database);
        TableName name = TableName.parse(table);
        ShardedTable sharded = cluster.shardedTable(name).orElseThrow(() -> new BadInputException(
                "table " + name + " is not sharded in database '" + database + "' (sharded tables: "
                        + (cluster.shardedTables().isEmpty() ? "none" : cluster.shardedTables().keySet())
                        + "); add a [[sharded_tables]] entry or pick another table"));
        ShardFunction f = new ShardFunction(sharded.keyType(), cluster.shardCount());
        // parse every value first, so that a bad value prints nothing half done
        List<Integer> shards = new ArrayList<>(values.size());
        for (String v : values) {
            try {
                shards.add(f.shardOf(sharded.keyType().parse(v)));
            } catch (ShardKeyParseException e) {
                throw new BadInputException(e.getMessage() + " for " + name + "." + sharded.column() + "; fix the value");
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        for (int i = 0; i < values.size(); i++) {
            out.print(values.get(i));
            out.print('\t');
            out.println(shards.get(i));
        }
        out.flush();
    }
}
