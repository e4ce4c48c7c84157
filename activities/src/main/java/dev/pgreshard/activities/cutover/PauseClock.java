package dev.pgreshard.activities.cutover;

/**
 * The budget of one client pause ({@code cutover_pause_budget_ms}): started when the first proxy is
 * asked to pause; every step inside the pause is bounded by what is left of it.
 */
final class PauseClock {
    private final long budgetMs;
    private long startedNanos;

    PauseClock(long budgetMs) {
        this.budgetMs = budgetMs;
    }

    void start() {
        startedNanos = System.nanoTime();
    }

    long budgetMs() {
        return budgetMs;
    }

    long elapsedMs() {
        return (System.nanoTime() - startedNanos) / 1_000_000;
    }

    /** What is left of the budget, at least 1 ms (a timeout of 0 would mean "no timeout" to most APIs). */
    long remainingMs() {
        return Math.max(1, budgetMs - elapsedMs());
    }

    boolean exceeded() {
        return elapsedMs() >= budgetMs;
    }

    /** Throws when the budget is spent, naming the step that was about to start or had just ended. */
    void check(String step) throws OverBudgetException {
        if (exceeded()) {
            throw new OverBudgetException("the pause reached its budget of " + budgetMs + " ms at " + step + " (after "
                    + elapsedMs() + " ms)");
        }
    }

    /** The pause would exceed {@code cutover_pause_budget_ms}: traffic goes back to where it was. */
    static final class OverBudgetException extends Exception {
        OverBudgetException(String message) {
            super(message);
        }
    }
}
