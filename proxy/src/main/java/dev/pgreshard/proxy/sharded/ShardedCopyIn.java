package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.ShardedTable;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.routing.CopyCommand;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * A {@code COPY ... FROM STDIN} on a sharded database: the COPY runs on every shard; the client's
 * CopyData is split into rows and each row sent to its shard (omnisharded tables: every row to every
 * shard); CopyDone / CopyFail end it everywhere. A row that cannot be routed aborts the COPY on all
 * shards with CopyFail, so nothing is half-loaded in a way the client does not hear about.
 */
final class ShardedCopyIn {
    private CopyRowSplitter splitter;
    private int[] targets;
    private ShardLink[] links;

    /** Why this COPY cannot be routed, or null. */
    String refusal(CopyCommand command, Cluster cluster) {
        if (command.binary()) {
            return "COPY FROM STDIN in binary format cannot be routed by the proxy; use text or csv format";
        }
        if (command.table() == null) {
            return "COPY FROM STDIN needs a table";
        }
        ShardedTable sharded = cluster.shardedTable(command.table()).orElse(null);
        if (sharded != null && command.columns().indexOf(sharded.column()) < 0) {
            return "COPY into sharded table " + command.table() + " must list its columns, including shard key "
                    + sharded.column() + ", e.g. COPY " + command.table().name() + " (" + sharded.column() + ", ...) FROM STDIN";
        }
        return null;
    }

    void begin(CopyCommand command, Cluster cluster, int[] targets, ShardLink[] links) {
        ShardedTable sharded = cluster.shardedTable(command.table()).orElse(null);
        int keyField = sharded == null ? -1 : command.columns().indexOf(sharded.column());
        this.splitter = new CopyRowSplitter(command, keyField,
                sharded == null ? null : cluster.shardFunction(command.table()).orElseThrow(), targets);
        this.targets = targets;
        this.links = links;
    }

    boolean active() {
        return splitter != null;
    }

    /** CopyData, CopyDone or CopyFail from the client (ownership passes). */
    void onClientMessage(PgFrame frame) {
        if (splitter == null) {
            frame.release(); // after a failed COPY the client's remaining data is ignored, as by the server
            return;
        }
        try {
            switch (frame.typeChar()) {
                case 'd' -> splitter.accept(frame.body())
                        .forEach((shard, data) -> links[shard].backend.write(FrontendMessages.copyData(UNPOOLED, data)));
                case 'c' -> {
                    splitter.finish().forEach((shard, data) -> links[shard].backend.write(FrontendMessages.copyData(UNPOOLED, data)));
                    for (int s : targets) {
                        links[s].backend.write(FrontendMessages.copyDone(UNPOOLED));
                    }
                    finished();
                }
                default -> {
                    for (int s : targets) {
                        links[s].backend.write(FrontendMessages.copyFail(UNPOOLED, "COPY aborted by the client"));
                    }
                    finished();
                }
            }
        } catch (RuntimeException e) {
            abort("pgreshard cannot route a COPY row: " + e.getMessage());
        } finally {
            frame.release();
        }
    }

    /** Ends the COPY on every shard with CopyFail (the shards answer with an error the client gets). */
    void abort(String reason) {
        if (splitter == null) {
            return;
        }
        for (int s : targets) {
            links[s].backend.write(FrontendMessages.copyFail(UNPOOLED, reason));
        }
        finished();
    }

    void finished() {
        if (splitter != null) {
            splitter.release();
            splitter = null;
        }
    }
}
