package dev.pgreshard.proxy.twophase;

import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where the commit decisions of two-phase commits are kept durably (the control store's
 * {@code pgreshard_decision}). The first decision recorded for a transaction wins: the coordinator
 * records COMMIT after every shard prepared, recovery records ABORT before it rolls back a prepared
 * transaction nobody decided, and whichever comes second reads the other's decision instead. That
 * fence is what lets recovery in another proxy act while the coordinator may still be alive.
 */
public interface DecisionLog {
    enum Outcome { COMMIT, ABORT }

    /** A stored decision: {@code participants} lists the shards, {@code decidedBy} the proxy (or "recovery"). */
    record Record(String gid, Outcome outcome, String participants, String decidedBy, Instant decidedAt) {
    }

    /** A decision to record with {@link #decideAll}. */
    record Request(String gid, Outcome outcome, String participants, String decidedBy) {
    }

    /** Records {@code outcome} for {@code gid} unless a decision is there already; returns the stored decision. */
    Outcome decide(String gid, Outcome outcome, String participants, String decidedBy);

    /**
     * Records many decisions at once, each as {@link #decide} would (group commit: one durable write for
     * the decisions of concurrent commits); returns the stored decision of every gid. Throws when the
     * store cannot be reached (nothing is then known of any of them). This default records one by one.
     */
    default Map<String, Outcome> decideAll(List<Request> requests) {
        Map<String, Outcome> stored = new HashMap<>();
        for (Request r : requests) {
            stored.put(r.gid(), decide(r.gid(), r.outcome(), r.participants(), r.decidedBy()));
        }
        return stored;
    }

    Optional<Record> find(String gid);

    List<Record> all();

    /** Removes the decisions of transactions that every shard has resolved. */
    void forget(Collection<String> gids);
}
