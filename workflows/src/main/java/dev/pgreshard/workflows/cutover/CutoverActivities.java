package dev.pgreshard.workflows.cutover;

import dev.pgreshard.workflows.TaskRef;
import io.temporal.activity.ActivityInterface;
import io.temporal.activity.ActivityMethod;

/**
 * docs/architecture.md §5.8–9: the traffic moves. Each is one activity so that the pause spends no time on
 * workflow round trips; each is safe to retry (it first finds out whether the swap already happened).
 */
@ActivityInterface(namePrefix = "Cutover")
public interface CutoverActivities {
    /**
     * Pause every registered proxy → wait for in-flight transactions → wait until forward replication
     * applied the source's WAL position taken after the pause → sync sequences → create reverse
     * replication (publication + slot on each destination shard) → swap routing (new epoch) → resume.
     * Over budget or any failure before the swap: resume on the source and report, swapped = false.
     */
    @ActivityMethod
    CutoverResult cutover(CutoverRequest request);

    /** Pause → drain reverse replication → swap routing back to the source → resume. */
    @ActivityMethod
    CutoverResult rollback(CutoverRequest request);

    /** Resume every proxy this task may have paused (cleanup after a stop or a failure); idempotent. */
    @ActivityMethod
    void resumeProxies(TaskRef task);
}
