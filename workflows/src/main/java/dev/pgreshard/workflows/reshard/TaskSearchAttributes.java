package dev.pgreshard.workflows.reshard;

import io.temporal.common.SearchAttributeKey;
import io.temporal.common.SearchAttributeUpdate;
import io.temporal.workflow.Workflow;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The task's custom search attributes (all Keyword), set only where the namespace has them: upserting
 * an attribute the server does not know fails the workflow task, again and again. Which ones it knows
 * the claim activity found out (so the answer is in the history and replays the same); the rest are
 * skipped. Register them with {@code temporal operator search-attribute create --name PgreshardSource
 * --type Keyword} (and PgreshardDestination, PgreshardPhase), see README.
 */
public final class TaskSearchAttributes {
    static final SearchAttributeKey<String> SOURCE = SearchAttributeKey.forKeyword("PgreshardSource");
    static final SearchAttributeKey<String> DESTINATION = SearchAttributeKey.forKeyword("PgreshardDestination");
    static final SearchAttributeKey<String> PHASE = SearchAttributeKey.forKeyword("PgreshardPhase");
    /** Every attribute pgreshard sets, by name (what the claim asks the namespace about). */
    public static final List<String> NAMES = List.of(SOURCE.getName(), DESTINATION.getName(), PHASE.getName());
    /** Change id: histories from before this replay without the upserts. */
    static final String VERSION = "search-attributes";

    private final Set<String> supported;

    private TaskSearchAttributes(Set<String> supported) {
        this.supported = supported;
    }

    static TaskSearchAttributes none() {
        return new TaskSearchAttributes(Set.of());
    }

    /** {@code supported}: the names the claim found registered as Keyword (null from an older worker: none). */
    static TaskSearchAttributes of(List<String> supported) {
        return new TaskSearchAttributes(supported == null ? Set.of() : Set.copyOf(supported));
    }

    void taskStarted(String source, String destination) {
        upsert(List.of(SOURCE.valueSet(source), DESTINATION.valueSet(destination)));
    }

    void phase(Phase phase) {
        upsert(List.of(PHASE.valueSet(phase.name())));
    }

    private void upsert(List<SearchAttributeUpdate<String>> updates) {
        List<SearchAttributeUpdate<?>> known = new ArrayList<>();
        for (SearchAttributeUpdate<String> u : updates) {
            if (supported.contains(u.getKey().getName())) {
                known.add(u);
            }
        }
        if (!known.isEmpty()) {
            Workflow.upsertTypedSearchAttributes(known.toArray(SearchAttributeUpdate<?>[]::new));
        }
    }
}
