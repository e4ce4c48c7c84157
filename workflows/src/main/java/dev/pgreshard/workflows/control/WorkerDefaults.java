package dev.pgreshard.workflows.control;

import java.util.List;

/**
 * What the worker's pgreshard.toml says for the options a workflow input may leave out (returned by
 * the claim, so the values are in the history and a replay sees the same ones).
 *
 * @param copyParallelism    {@code [general] copy_parallelism}, or the destination's shard count when 0
 * @param lagThresholdBytes  {@code [general] cutover_lag_threshold_bytes}
 * @param pauseBudgetMs      {@code [general] cutover_pause_budget_ms}
 * @param searchAttributes   pgreshard's custom search attributes the namespace has registered as Keyword
 *                           (only these are upserted; null from a worker that did not ask: none)
 */
public record WorkerDefaults(int copyParallelism, long lagThresholdBytes, long pauseBudgetMs,
                             List<String> searchAttributes) {
    public WorkerDefaults(int copyParallelism, long lagThresholdBytes, long pauseBudgetMs) {
        this(copyParallelism, lagThresholdBytes, pauseBudgetMs, List.of());
    }
}
