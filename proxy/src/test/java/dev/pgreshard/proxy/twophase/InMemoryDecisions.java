package dev.pgreshard.proxy.twophase;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Two-phase commit decisions as the control store keeps them, in memory: the first one recorded for a transaction wins. */
public final class InMemoryDecisions implements DecisionLog {
    private final Map<String, Record> records = new ConcurrentHashMap<>();

    @Override
    public Outcome decide(String gid, Outcome outcome, String participants, String decidedBy) {
        return records.computeIfAbsent(gid, g -> new Record(g, outcome, participants, decidedBy, Instant.now())).outcome();
    }

    @Override
    public Optional<Record> find(String gid) {
        return Optional.ofNullable(records.get(gid));
    }

    @Override
    public List<Record> all() {
        return List.copyOf(records.values());
    }

    @Override
    public void forget(Collection<String> gids) {
        gids.forEach(records::remove);
    }
}
