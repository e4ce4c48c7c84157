package dev.pgreshard.workflows.reshard;

import io.temporal.activity.ActivityCancellationType;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.common.converter.DataConverterException;
import io.temporal.worker.WorkflowImplementationOptions;

import java.time.Duration;
import java.util.Map;

/**
 * The activity options of {@link ReshardWorkflowImpl}, applied where the workflow is registered
 * with a worker (workflow code creates its stubs without options). Long activities heartbeat, so a
 * dead worker is noticed within {@code heartbeatTimeout} and the activity is retried elsewhere.
 *
 * @param shortTimeout      start-to-close of quick activities (status, control store, slot creation)
 * @param heartbeatTimeout  how long a long activity may go without a heartbeat before it is retried
 * @param copyTimeout       start-to-close of one table copy (a large table takes hours)
 * @param schemaTimeout     start-to-close of a schema sync (pg_dump + apply)
 * @param cutoverTimeout    start-to-close of a cutover or rollback (the pause itself is budgeted inside)
 * @param maxAttempts       attempts of an activity that fails with a retryable error (0 = unlimited)
 */
public record ReshardWorkerOptions(Duration shortTimeout, Duration heartbeatTimeout, Duration copyTimeout,
                                   Duration schemaTimeout, Duration cutoverTimeout, int maxAttempts) {

    public static final ReshardWorkerOptions DEFAULTS = new ReshardWorkerOptions(Duration.ofMinutes(2),
            Duration.ofSeconds(30), Duration.ofDays(2), Duration.ofHours(1), Duration.ofMinutes(5), 10);

    /** The defaults with the heartbeat timeout of {@code [temporal] heartbeat_timeout_seconds}. */
    public static ReshardWorkerOptions forHeartbeatTimeout(Duration heartbeatTimeout) {
        return new ReshardWorkerOptions(DEFAULTS.shortTimeout, heartbeatTimeout, DEFAULTS.copyTimeout,
                DEFAULTS.schemaTimeout, DEFAULTS.cutoverTimeout, DEFAULTS.maxAttempts);
    }

    /** Every activity on the workflow's own task queue (one worker may take all copies; tests). */
    public WorkflowImplementationOptions implementationOptions() {
        return implementationOptions(null);
    }

    /**
     * @param copyTaskQueue the queue copy activities are scheduled on ({@code [temporal] task_queue} + "-copy"),
     *                      served by every worker with its own slot limit, so one reshard's copies spread over
     *                      all workers; null = the workflow's task queue
     */
    public WorkflowImplementationOptions implementationOptions(String copyTaskQueue) {
        RetryOptions retry = RetryOptions.newBuilder()
                .setInitialInterval(Duration.ofSeconds(1))
                .setBackoffCoefficient(2)
                .setMaximumInterval(Duration.ofMinutes(1))
                .setMaximumAttempts(maxAttempts)
                .build();
        ActivityOptions quick = ActivityOptions.newBuilder().setStartToCloseTimeout(shortTimeout).setRetryOptions(retry)
                .build();
        ActivityOptions copy = ActivityOptions.newBuilder().setStartToCloseTimeout(copyTimeout)
                .setHeartbeatTimeout(heartbeatTimeout).setRetryOptions(retry).setTaskQueue(copyTaskQueue).build();
        // a cancelled range must have stopped writing before its table is emptied for a restart
        ActivityOptions range = copy.toBuilder().setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED)
                .build();
        // a snapshot holder is never retried: a new snapshot means the table restarts (SplitTableCopy)
        ActivityOptions hold = ActivityOptions.newBuilder().setStartToCloseTimeout(copyTimeout)
                .setHeartbeatTimeout(heartbeatTimeout).setRetryOptions(retry.toBuilder().setMaximumAttempts(1).build())
                .build();
        ActivityOptions schema = ActivityOptions.newBuilder().setStartToCloseTimeout(schemaTimeout)
                .setHeartbeatTimeout(heartbeatTimeout).setRetryOptions(retry).build();
        // replication runs until cancelled; WAIT_CANCELLATION_COMPLETED makes "stopped" mean stopped
        ActivityOptions replicate = ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofDays(3650))
                .setHeartbeatTimeout(heartbeatTimeout).setRetryOptions(retry.toBuilder().setMaximumAttempts(0).build())
                .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED).build();
        ActivityOptions cutover = ActivityOptions.newBuilder().setStartToCloseTimeout(cutoverTimeout)
                .setHeartbeatTimeout(heartbeatTimeout).setRetryOptions(retry.toBuilder().setMaximumAttempts(3).build())
                .build();
        // a lag measurement is retried a little, then reported as unavailable (the next poll tries again)
        ActivityOptions status = quick.toBuilder().setStartToCloseTimeout(Duration.ofSeconds(30))
                .setRetryOptions(retry.toBuilder().setMaximumAttempts(2).build()).build();
        return WorkflowImplementationOptions.newBuilder()
                // an input Temporal cannot even decode (not JSON) fails the workflow instead of failing
                // every workflow task for ever; JSON of any shape is ReshardInput's to validate
                .setFailWorkflowExceptionTypes(DataConverterException.class)
                .setDefaultActivityOptions(quick)
                .setActivityOptions(Map.ofEntries(
                        Map.entry("CopyTable", copy),
                        Map.entry("CopyRange", range),
                        Map.entry("HoldSnapshot", hold),
                        Map.entry("AwaitSnapshot", schema), // creating the snapshot waits for running transactions
                        Map.entry("SchemaSyncPreData", schema),
                        Map.entry("SchemaSyncPostData", schema),
                        Map.entry("ReplicationReplicate", replicate),
                        // heartbeats while slot creation waits for transactions; a stop waits for the attempt to
                        // end, else the cleanup drops the slots first and the attempt then strands its slot
                        Map.entry("ReplicationCreateSlots", schema.toBuilder()
                                .setCancellationType(ActivityCancellationType.WAIT_CANCELLATION_COMPLETED).build()),
                        Map.entry("CutoverCutover", cutover),
                        Map.entry("ReplicationStatus", status),
                        Map.entry("CutoverRollback", cutover)))
                .build();
    }
}
