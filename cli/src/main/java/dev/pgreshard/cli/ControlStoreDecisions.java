package dev.pgreshard.cli;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.DecisionRepository;
import dev.pgreshard.activities.control.DecisionRow;
import dev.pgreshard.activities.control.DecisionWriter;
import dev.pgreshard.proxy.twophase.DecisionLog;

import java.sql.SQLException;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The proxy's {@link DecisionLog} kept in the control store's {@code pgreshard_decision}. Commit decisions
 * of the proxy's own commits go in batches through a {@link DecisionWriter} (one connection, one
 * statement per batch); the rest goes through the repository.
 */
final class ControlStoreDecisions implements DecisionLog, AutoCloseable {
    /**
     * Looked up once: {@code ControlStore.decisions()} asks the Micronaut context, which builds a new
     * repository (interceptors, bean definitions) on every call — measured as the largest cost of a 2PC
     * commit's decision thread (JFR, bench/twophase).
     */
    private final DecisionRepository decisions;
    /** Only the proxy's group-commit thread calls {@link #decideAll}: the writer is not shared. */
    private final DecisionWriter writer;

    ControlStoreDecisions(ControlStore store) {
        this.decisions = store.decisions();
        this.writer = store.decisionWriter();
    }

    @Override
    public Map<String, Outcome> decideAll(List<Request> requests) {
        Set<String> recorded;
        try {
            recorded = writer.recordAll(requests.stream()
                    .map(r -> new DecisionWriter.NewDecision(r.gid(), name(r.outcome()), r.participants(), r.decidedBy()))
                    .toList());
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        Map<String, Outcome> stored = new HashMap<>();
        for (Request r : requests) {
            // not recorded now: a decision was there first (recovery's abort fence); read it
            stored.put(r.gid(), recorded.contains(r.gid()) ? r.outcome() : find(r.gid()).map(Record::outcome)
                    .orElseThrow(() -> new IllegalStateException("decision of " + r.gid() + " was neither recorded nor found "
                            + "in the control store")));
        }
        return stored;
    }

    @Override
    public void close() {
        writer.close();
    }

    @Override
    public Outcome decide(String gid, Outcome outcome, String participants, String decidedBy) {
        if (decisions.decide(gid, name(outcome), participants, decidedBy) == 1) {
            return outcome;
        }
        return find(gid).map(Record::outcome).orElseThrow(() -> new IllegalStateException(
                "decision of " + gid + " was neither recorded nor found in the control store"));
    }

    @Override
    public Optional<Record> find(String gid) {
        return decisions.findById(gid).map(ControlStoreDecisions::record);
    }

    @Override
    public List<Record> all() {
        return decisions.findAllOrderByDecidedAt().stream().map(ControlStoreDecisions::record).toList();
    }

    @Override
    public void forget(Collection<String> gids) {
        if (!gids.isEmpty()) {
            decisions.deleteByGidInList(gids);
        }
    }

    private static String name(Outcome outcome) {
        return outcome.name().toLowerCase(Locale.ROOT);
    }

    private static Record record(DecisionRow row) {
        return new Record(row.gid(), Outcome.valueOf(row.decision().toUpperCase(Locale.ROOT)), row.participants(),
                row.decidedBy(), row.decidedAt());
    }
}
