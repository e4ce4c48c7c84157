package dev.pgreshard.workflows.reshard;

import com.fasterxml.jackson.databind.JsonNode;
import io.temporal.workflow.QueryMethod;
import io.temporal.workflow.SignalMethod;
import io.temporal.workflow.WorkflowInterface;
import io.temporal.workflow.WorkflowMethod;

/**
 * One reshard task (docs/architecture.md §5): workflow type {@code ReshardWorkflow}, workflow id = task id
 * ({@code reshard-<src>-<dst>-<seq>} when the CLI or admin database starts it; any unused id from
 * elsewhere), signals {@code cutover}, {@code rollback}, {@code finalize}
 * (and, from the worker, {@code activityFailing} / {@code activityRecovered}), query {@code status}.
 * Cancelling the workflow is `stop`: before the cutover it drops what the task created; after the
 * cutover it ends the task like `finalize` (traffic stays on the destination, see README "Stop").
 */
@WorkflowInterface
public interface ReshardWorkflow {
    String TYPE = "ReshardWorkflow";

    /**
     * @param input one JSON object, {@link ReshardInput}: {@code {"source":…,"destination":…,
     *              "publication":…,"options":{…}}}, validated by the workflow itself (a malformed one
     *              fails the workflow at once, naming the field)
     * @param legacyDestination  only for histories started before the one-object input (positional
     *                           source, destination, publication, options); must be absent in new starts
     */
    @WorkflowMethod(name = TYPE)
    ReshardStatus reshard(JsonNode input, JsonNode legacyDestination, JsonNode legacyPublication, JsonNode legacyOptions);

    /** Cut over now (manual mode), or without waiting for low lag (automatic mode). */
    @SignalMethod(name = "cutover")
    void cutover();

    /** After a cutover: move traffic back to the source. */
    @SignalMethod(name = "rollback")
    void rollback();

    /**
     * After a cutover: stop reverse replication and drop its slots; the destination stays. Refused
     * (a warning in the status) while reverse replication is failing or cannot apply what the
     * destination committed before the signal; with {@code force} (absent or null = false) that loss is
     * accepted and the status says how much was dropped.
     */
    @SignalMethod(name = "finalize")
    void finalizeTask(Boolean force);

    /** From the worker: an activity attempt failed (shown in the status while it is retried). */
    @SignalMethod(name = "activityFailing")
    void activityFailing(ActivityFailureReport report);

    /** From the worker: the activity of {@code key} works again after failing. */
    @SignalMethod(name = "activityRecovered")
    void activityRecovered(String key);

    @QueryMethod(name = "status")
    ReshardStatus status();
}
