package dev.pgreshard.proxy.twophase;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
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

    /** Records {@code outcome} for {@code gid} unless a decision is there already; returns the stored decision. */
    Outcome decide(String gid, Outcome outcome, String participants, String decidedBy);

    Optional<Record> find(String gid);

    List<Record> all();

    /** Removes the decisions of transactions that every shard has resolved. */
    void forget(Collection<String> gids);
}
