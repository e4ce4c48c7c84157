package dev.pgreshard.workflows.reshard;

import dev.pgreshard.workflows.control.WorkerDefaults;

/**
 * How a task runs: the {@code "options"} object of {@link ReshardInput}. A null field was left out
 * by whoever started the task; {@link #withDefaults(WorkerDefaults)} fills it from the worker's
 * pgreshard.toml (the three {@link WorkerDefaults}) or from the built-in values below.
 *
 * @param manualCutover          wait for the `cutover` signal instead of cutting over when lag is low (default false)
 * @param copyParallelism        tables copied at once, at least 1 (default [general] copy_parallelism, or the destination's shard count)
 * @param lagThresholdBytes      automatic cutover starts once replication lag is under this (default [general] cutover_lag_threshold_bytes)
 * @param pauseBudgetMs          a cutover whose pause would exceed this is aborted, traffic stays on the source (default [general] cutover_pause_budget_ms)
 * @param lagPollSeconds         how often the lag is checked while waiting for an automatic cutover (default 2)
 * @param cutoverRetrySeconds    wait after a failed automatic cutover attempt before the next (default 30)
 * @param maxAutomaticCutovers   failed automatic attempts after which the task waits for the `cutover` signal (default 5)
 * @param fenceSource            revoke writes on the source from application roles at cutover (default false)
 */
public record ReshardOptions(Boolean manualCutover, Integer copyParallelism, Long lagThresholdBytes, Long pauseBudgetMs,
                             Integer lagPollSeconds, Integer cutoverRetrySeconds, Integer maxAutomaticCutovers,
                             Boolean fenceSource) {

    /** The built-in defaults, for a worker that predates {@link WorkerDefaults}. */
    static final WorkerDefaults BUILT_IN = new WorkerDefaults(2, 1_048_576L, 1000L);

    public static ReshardOptions defaults() {
        return new ReshardOptions(null, null, null, null, null, null, null, null).withDefaults();
    }

    public ReshardOptions withDefaults() {
        return withDefaults(BUILT_IN);
    }

    public ReshardOptions withDefaults(WorkerDefaults worker) {
        WorkerDefaults w = worker == null ? BUILT_IN : worker;
        return new ReshardOptions(
                manualCutover != null && manualCutover,
                copyParallelism == null || copyParallelism < 1 ? Math.max(1, w.copyParallelism()) : copyParallelism,
                lagThresholdBytes == null ? w.lagThresholdBytes() : lagThresholdBytes,
                pauseBudgetMs == null ? w.pauseBudgetMs() : pauseBudgetMs,
                lagPollSeconds == null || lagPollSeconds < 1 ? 2 : lagPollSeconds,
                cutoverRetrySeconds == null || cutoverRetrySeconds < 1 ? 30 : cutoverRetrySeconds,
                maxAutomaticCutovers == null || maxAutomaticCutovers < 1 ? 5 : maxAutomaticCutovers,
                fenceSource != null && fenceSource);
    }
}
