package dev.pgreshard.activities.preflight;

/**
 * A problem that stops the task, and what fixes it: SQL to run (each statement ending in {@code ;},
 * ready to paste) or, where no SQL fixes it, the change to make (a config key, a server setting).
 *
 * @param problem what is wrong, naming the server, the table and the user
 * @param fix     the SQL or the change that fixes it; empty when the problem already says it (a
 *                connection error naming the host and what to check)
 */
public record Blocker(String problem, String fix) {
    public Blocker {
        fix = fix == null ? "" : fix;
    }

    /** One sentence: the problem, then its fix (the workflow's preflight failure joins these). */
    public String sentence() {
        return fix.isEmpty() ? problem : problem + "; " + fix;
    }
}
