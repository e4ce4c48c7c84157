package dev.pgreshard.workflows.reshard;

import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One reshard task (docs/architecture.md §5): workflow type {@code ReshardWorkflow}, workflow id = task id
 * ({@code reshard-<src>-<dst>-<seq>}), signals {@code cutover}, {@code rollback}, {@code finalize},
 * query {@code status}. Cancelling the workflow is `stop`: it drops what the task created.
 */
@WorkflowInterface
public interface ReshardWorkflow {
    String TYPE = "ReshardWorkflow";

    @WorkflowMethod(name = TYPE)
    ReshardStatus reshard(String source, String destination, String publication, ReshardOptions options);

    /** Cut over now (manual mode), or without waiting for low lag (automatic mode). */
    @SignalMethod(name = "cutover")
    void cutover();

    /** After a cutover: move traffic back to the source. */
    @SignalMethod(name = "rollback")
    void rollback();

    /** After a cutover: stop reverse replication and drop its slots; the destination stays. */
    @SignalMethod(name = "finalize")
    void finalizeTask();

    @QueryMethod(name = "status")
    ReshardStatus status();
}
