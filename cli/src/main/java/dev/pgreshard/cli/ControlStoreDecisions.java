package dev.pgreshard.cli;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.control.DecisionRepository;
import dev.pgreshard.activities.control.DecisionRow;
import dev.pgreshard.proxy.twophase.DecisionLog;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The proxy's {@link DecisionLog} kept in the control store's {@code pgreshard_decision}. */
final class ControlStoreDecisions implements DecisionLog {
    /**
     * Looked up once: {@code ControlStore.decisions()} asks the Micronaut context, which builds a new
     * repository (interceptors, bean definitions) on every call — measured as the largest cost of a 2PC
     * commit's decision thread (JFR, bench/twophase).
     */
    private final DecisionRepository decisions;

    ControlStoreDecisions(ControlStore store) {
        this.decisions = store.decisions();
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
