package dev.pgreshard.activities.preflight;

import java.util.ArrayList;
import java.util.List;

/** What the checks found, in the order found: blockers (each with its fix) and warnings. */
final class Findings {
    private final List<Blocker> blockers = new ArrayList<>();
    private final List<String> warnings = new ArrayList<>();

    void block(String problem, String fix) {
        Blocker b = new Blocker(problem, fix);
        if (!blockers.contains(b)) {
            blockers.add(b);
        }
    }

    /** A failure whose message carries its own advice (a connection error naming the host and what to check). */
    void block(String problemWithAdvice) {
        block(problemWithAdvice, "");
    }

    void warn(String warning) {
        if (!warnings.contains(warning)) {
            warnings.add(warning);
        }
    }

    boolean hasBlockers() {
        return !blockers.isEmpty();
    }

    List<Blocker> blockers() {
        return List.copyOf(blockers);
    }

    List<String> warnings() {
        return List.copyOf(warnings);
    }
}
