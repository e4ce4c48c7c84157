package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.twophase.TwoPhaseCoordinator;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Ends a sharded transaction that wrote on several shards with the proxy's {@link TwoPhaseCoordinator},
 * over the session's own connections. Shards the transaction only read are committed one-phase at the
 * same time (nothing of theirs needs to be atomic with the rest).
 */
final class MultiShardCommit {
    private MultiShardCommit() {
    }

    static void commit(ClientSession session, List<ShardLink> written, List<ShardLink> readOnly, String cluster, Logger log,
                       Consumer<TwoPhaseCoordinator.Result> done) {
        for (ShardLink l : readOnly) {
            l.send(ResponseSink.internal("COMMIT of a read-only shard", log), ShardLink.query("COMMIT"));
            l.backend.flush();
        }
        List<TwoPhaseCoordinator.Participant> participants = new ArrayList<>();
        StringBuilder description = new StringBuilder(cluster).append(" shards");
        for (ShardLink l : written) {
            participants.add(new LinkParticipant(l));
            description.append(' ').append(l.shard);
        }
        session.proxy().twoPhase().commit(participants, description.toString(), session.eventLoop(), result -> {
            session.proxy().metrics().twoPhaseCommit(result.committed() ? "committed"
                    : result.sqlState() != null && result.sqlState().equals("08007") ? "unknown" : "rolled_back");
            done.accept(result);
        });
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
            }, ShardLink.query(sql));
            link.backend.flush();
        }
    }
}
