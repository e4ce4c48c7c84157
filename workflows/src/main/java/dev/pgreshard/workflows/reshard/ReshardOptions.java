package dev.pgreshard.workflows.reshard;

/**
 * How a task runs. Filled by whoever starts it (CLI, admin database) from pgreshard.toml, so the
 * workflow code holds no tuning literals; {@link #withDefaults()} fills what a Temporal CLI user left out.
 *
 * @param manualCutover          wait for the `cutover` signal instead of cutting over when lag is low
 * @param copyParallelism        tables copied at once (at least 1)
 * @param lagThresholdBytes      automatic cutover starts once replication lag is under this
 * @param pauseBudgetMs          a cutover whose pause would exceed this is aborted (traffic stays on the source)
 * @param lagPollSeconds         how often the lag is checked while waiting for an automatic cutover
 * @param cutoverRetrySeconds    wait after a failed automatic cutover attempt before the next
 * @param maxAutomaticCutovers   failed automatic attempts after which the task waits for the `cutover` signal
 * @param fenceSource            revoke writes on the source from application roles at cutover
 */
public record ReshardOptions(Boolean manualCutover, Integer copyParallelism, Long lagThresholdBytes, Long pauseBudgetMs,
                             Integer lagPollSeconds, Integer cutoverRetrySeconds, Integer maxAutomaticCutovers,
                             Boolean fenceSource) {

    public static ReshardOptions defaults() {
        return new ReshardOptions(null, null, null, null, null, null, null, null).withDefaults();
    }

    public ReshardOptions withDefaults() {
        return new ReshardOptions(
                manualCutover != null && manualCutover,
                copyParallelism == null || copyParallelism < 1 ? 2 : copyParallelism,
                lagThresholdBytes == null ? 1_048_576L : lagThresholdBytes,
                pauseBudgetMs == null ? 1000L : pauseBudgetMs,
                lagPollSeconds == null || lagPollSeconds < 1 ? 2 : lagPollSeconds,
                cutoverRetrySeconds == null || cutoverRetrySeconds < 1 ? 30 : cutoverRetrySeconds,
                maxAutomaticCutovers == null || maxAutomaticCutovers < 1 ? 5 : maxAutomaticCutovers,
                fenceSource != null && fenceSource);
    }
}
