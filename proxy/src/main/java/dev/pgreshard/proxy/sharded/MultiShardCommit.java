package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.twophase.TwoPhaseCoordinator;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * Ends a sharded session's transactions that wrote on several shards with the proxy's
 * {@link TwoPhaseCoordinator}, over the session's own connections. Shards the transaction only read
 * are committed one-phase at the same time (nothing of theirs needs to be atomic with the rest).
 */
final class MultiShardCommit {
    private final ClientSession session;
    private final ShardLinks links;
    private final TransactionState tx;
    private final Logger log;

    MultiShardCommit(ClientSession session, ShardLinks links, TransactionState tx, Logger log) {
        this.session = session;
        this.links = links;
        this.tx = tx;
        this.log = log;
    }

    /** Multi-shard transactions commit with 2PC: configured, and the proxy has its decision log. */
    boolean enabled() {
        return session.proxy().twoPhaseCommit();
    }

    /**
     * Commits the transaction open on {@code targets}: two-phase over the shards it wrote on, one-phase on
     * the others; the transaction is ended before {@code done} runs (on the event loop).
     */
    void commit(int[] targets, String cluster, Consumer<TwoPhaseCoordinator.Result> done) {
        List<TwoPhaseCoordinator.Participant> participants = new ArrayList<>();
        StringBuilder description = new StringBuilder(cluster).append(" shards");
        for (int shard : targets) {
            ShardLink l = links.get(shard);
            if (tx.wrote(shard)) {
                participants.add(new LinkParticipant(l));
                description.append(' ').append(shard);
            } else {
                l.send(ResponseSink.internal("COMMIT of a read-only shard", log), FrontendMessages.query(UNPOOLED, "COMMIT"));
            }
        }
        // the coordinator hands back to the event loop after the decision, outside any read burst: flush then
        Executor loop = task -> session.eventLoop().execute(() -> {
            task.run();
            session.flushAll();
        });
        session.proxy().twoPhase().commit(participants, description.toString(), loop, result -> {
            session.proxy().metrics().twoPhaseCommit(result.committed() ? "committed"
                    : SqlState.TRANSACTION_RESOLUTION_UNKNOWN.equals(result.sqlState()) ? "unknown" : "rolled_back");
            tx.end(links.all());
            done.accept(result);
        });
    }

    /** Rolls the transaction back on every shard it touched (the answers are dropped) and ends it. */
    void rollBackAll() {
        for (int shard : tx.shardsInTransaction(links.all())) {
            links.get(shard).send(ResponseSink.internal("ROLLBACK", log), FrontendMessages.query(UNPOOLED, "ROLLBACK"));
        }
        tx.end(links.all());
    }

    /** The commit's error for the client: the shard's own ErrorResponse when a shard refused. */
    void writeError(TwoPhaseCoordinator.Result result) {
        if (result.shardError() != null) {
            session.write(result.shardError().frame());
        } else {
            session.writeError(result.sqlState(), result.message());
        }
    }

    /** Runs the coordinator's statements on one of the session's shard connections. */
    private record LinkParticipant(ShardLink link) implements TwoPhaseCoordinator.Participant {
        @Override
        public int shard() {
            return link.shard;
        }

        @Override
        public void run(String sql, Consumer<PgFrame> done) {
            link.send(new ResponseSink() {
                private PgFrame error;

                @Override
                public void onMessage(int shard, PgFrame frame) {
                    if (frame.typeChar() == 'E' && error == null) {
                        error = frame;
                        return;
                    }
                    boolean ready = frame.typeChar() == 'Z';
                    frame.release();
                    if (ready) {
                        done.accept(error);
                    }
                }
            }, FrontendMessages.query(UNPOOLED, sql));
        }
    }
}
