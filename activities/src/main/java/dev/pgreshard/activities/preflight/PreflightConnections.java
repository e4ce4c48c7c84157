package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.support.TaskLogContext;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.Shard;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * One ordinary connection per shard a preflight checks, all opened at once when the preflight starts. Opening
 * one is a server process and, under SCRAM, 4096 HMAC rounds in this JVM — in a JVM that has just started, most
 * of the preflight's time (data-sync to 2 shards, 2026-12-03: 0.35 of 0.46 s, one connection after the other).
 * Opened in parallel they overlap on the cores and with the servers' own work, and each shard's checks find
 * theirs ready. A shard is checked on one connection even where the checks read it twice (the source's first
 * shard). When the preflight ends, every connection that opened goes to {@code keep} (e.g. the copier's pool,
 * which then need not open it again) or is closed.
 */
final class PreflightConnections implements AutoCloseable {
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Closes a connection nobody keeps. */
    static final BiConsumer<Shard, Connection> CLOSE = (shard, c) -> closeQuietly(c);

    private final Map<Shard, CompletableFuture<Connection>> opening = new LinkedHashMap<>();
    private final BiConsumer<Shard, Connection> keep;

    PreflightConnections(PgConnector connector, List<Shard> shards, BiConsumer<Shard, Connection> keep) {
        this.keep = keep;
        Executor thread = r -> TaskLogContext.daemonThreads("pgreshard-preflight-", THREADS).newThread(r).start();
        for (Shard shard : shards) {
            opening.computeIfAbsent(shard, s -> CompletableFuture.supplyAsync(() -> {
                try {
                    return connector.open(s);
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            }, thread));
        }
    }

    /** The connection to {@code shard}, once open; the failure to open it (the connector's message) otherwise. */
    Connection get(Shard shard) throws SQLException {
        CompletableFuture<Connection> pending = opening.get(shard);
        if (pending == null) {
            throw new IllegalArgumentException("no preflight connection to " + shard.describe());
        }
        try {
            return pending.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    /** Every connection that opened goes to {@code keep}; one still opening is closed once it has. */
    @Override
    public void close() {
        opening.forEach((shard, pending) -> {
            if (!pending.isDone()) {
                pending.thenAccept(PreflightConnections::closeQuietly); // the checks ended without it (a failure)
            } else if (!pending.isCompletedExceptionally()) {
                keep.accept(shard, pending.join());
            }
        });
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // a connection given up on: nothing of it is used any more
        }
    }
}
