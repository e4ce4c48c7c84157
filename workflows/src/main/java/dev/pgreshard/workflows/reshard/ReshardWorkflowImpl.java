package dev.pgreshard.workflows.reshard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.control.ControlActivities;
import dev.pgreshard.workflows.control.WorkerDefaults;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.cutover.CutoverActivities;
import dev.pgreshard.workflows.cutover.CutoverRequest;
import dev.pgreshard.workflows.cutover.CutoverResult;
import dev.pgreshard.workflows.cutover.DrainResult;
import dev.pgreshard.workflows.preflight.PreflightActivities;
import dev.pgreshard.workflows.preflight.PreflightReport;
import dev.pgreshard.workflows.replication.Direction;
import dev.pgreshard.workflows.replication.ReplicationActivities;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import dev.pgreshard.workflows.replication.TableStart;
import dev.pgreshard.workflows.schema.SchemaActivities;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.failure.TemporalFailure;
import io.temporal.common.converter.EncodedValues;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.DynamicSignalHandler;
import io.temporal.workflow.Workflow;
import org.slf4j.Logger;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The reshard sequence of docs/architecture.md §5. Activity options (timeouts, retries, heartbeats) come
 * from the worker's registration, never from here. Every failure or stop ends in a detached cleanup
 * that drops what the task created and resumes any proxy it paused.
 */
public class ReshardWorkflowImpl implements ReshardWorkflow {
    /** Change id of the first version; a later change to the sequence adds its own getVersion id. */
    static final String FLOW_VERSION = "reshard-flow";
    /** Finalize drains reverse replication first (and may be refused); histories from before replay without it. */
    static final String FINALIZE_DRAIN_VERSION = "finalize-drain";
    static final String REPLICATE_ACTIVITY = "ReplicationReplicate";
    private static final Duration FINALIZE_DRAIN_RETRY = Duration.ofSeconds(30);
    /** Change id of the one-object input, the memo and the claim as the first step. */
    static final String CLAIM_VERSION = "reshard-claim";
    private static final Logger LOG = Workflow.getLogger(ReshardWorkflowImpl.class);
    private static final Duration WAIT_FOR_SIGNAL_POLL = Duration.ofMinutes(10);
    private static final Duration REVERSE_LAG_POLL = Duration.ofMinutes(1);

    private final PreflightActivities preflight = Workflow.newActivityStub(PreflightActivities.class);
    private final SchemaActivities schema = Workflow.newActivityStub(SchemaActivities.class);
    private final CopyActivities copy = Workflow.newActivityStub(CopyActivities.class);
    private final ReplicationActivities replication = Workflow.newActivityStub(ReplicationActivities.class);
    private final CutoverActivities cutover = Workflow.newActivityStub(CutoverActivities.class);
    private final ControlActivities control = Workflow.newActivityStub(ControlActivities.class);

    private StatusBook book;
    private TaskRef task;
    private ReshardOptions options;
    private boolean cutoverRequested;
    private boolean rollbackRequested;
    private boolean finalizeRequested;
    private boolean finalizeForced;
    private boolean slotsCreated;
    private boolean trafficMayBePaused;
    private TaskSearchAttributes searchAttributes = TaskSearchAttributes.none();

    @Override
    public ReshardStatus reshard(JsonNode input, JsonNode legacyDestination, JsonNode legacyPublication,
                                 JsonNode legacyOptions) {
        Workflow.getVersion(FLOW_VERSION, Workflow.DEFAULT_VERSION, 1);
        // histories started before the one-object input (and its claim) replay the old way
        boolean claims = Workflow.getVersion(CLAIM_VERSION, Workflow.DEFAULT_VERSION, 1) == 1;
        ReshardInput in = claims ? ReshardInput.parse(input)
                : ReshardInput.parse(legacyInput(input, legacyDestination, legacyPublication, legacyOptions));
        task = new TaskRef(Workflow.getInfo().getWorkflowId(), in.source(), in.destination(), in.publication());
        book = new StatusBook(task, Boolean.TRUE.equals(in.options().manualCutover()));
        Workflow.registerListener((DynamicSignalHandler) this::unknownSignal);
        try {
            if (claims) {
                Workflow.upsertMemo(Map.of("source", in.source(), "destination", in.destination(),
                        "publication", in.publication()));
                WorkerDefaults defaults = control.claimTask(task);
                options = in.options().withDefaults(defaults);
                if (Workflow.getVersion(TaskSearchAttributes.VERSION, Workflow.DEFAULT_VERSION, 1) == 1) {
                    searchAttributes = TaskSearchAttributes.of(defaults == null ? null : defaults.searchAttributes());
                    searchAttributes.taskStarted(in.source(), in.destination());
                }
            } else {
                options = in.options().withDefaults();
            }
            record(Phase.PREFLIGHT, TaskState.RUNNING);
            PreflightReport report = preflight.check(task);
            book.warnAll(report.warnings());
            book.tablesPlanned(report.tables());

            record(Phase.SCHEMA_PRE, TaskState.RUNNING);
            book.warnAll(schema.syncPreData(task).warnings());

            record(Phase.COPY, TaskState.RUNNING);
            ReplicationRequest forward = new ReplicationRequest(task, Direction.FORWARD, List.of());
            slotsCreated = true; // set before the call: a failure inside it may still have created some
            replication.createSlots(forward);
            List<TableStart> starts = new TableCopyPlan(copy, book).run(task, report.tables(), options.copyParallelism());
            forward = new ReplicationRequest(task, Direction.FORWARD, starts);

            record(Phase.SCHEMA_POST, TaskState.RUNNING);
            book.warnAll(schema.syncPostData(task).warnings());

            record(Phase.REPLICATING, TaskState.RUNNING);
            ReplicationRun forwardRun = ReplicationRun.start(replication, forward);
            replicateUntilCutover(forward, forwardRun);
            // traffic is on the destination: stop forward (before reverse starts, so no change loops back)
            forwardRun.stop();
            book.activityStopped(REPLICATE_ACTIVITY);
            replication.dropSlots(forward);

            ReplicationRequest reverse = new ReplicationRequest(task, Direction.REVERSE, List.of());
            record(Phase.REVERSE_REPLICATING, TaskState.WAITING_FOR_FINALIZE);
            ReplicationRun reverseRun = ReplicationRun.start(replication, reverse);
            TaskState outcome = reverseUntilDone(reverse, reverseRun);
            reverseRun.stop();
            book.activityStopped(REPLICATE_ACTIVITY);
            replication.dropSlots(reverse);
            slotsCreated = false;
            record(Phase.DONE, outcome);
            return book.snapshot();
        } catch (TemporalFailure | IllegalStateException failure) {
            // a stop surfaces as CanceledFailure, or as an ActivityFailure of the activity it interrupted
            if (CancellationScope.current().isCancelRequested()) {
                if (book.trafficOnDestination()) {
                    // a Cancel cannot be refused (the CLI and admin database do refuse a stop here)
                    book.warn("stopped after the cutover: traffic stays on destination '" + task.destination()
                            + "' (the route points there); reverse replication and its slots were dropped, so "
                            + "rollback is no longer possible; '" + task.destination()
                            + "' is now the database of record, as after finalize");
                }
                cleanup(Phase.STOPPED, TaskState.STOPPED);
            } else {
                book.failed(describe(failure));
                cleanup(Phase.FAILED, TaskState.FAILED);
            }
            throw failure;
        }
    }

    /** The positional arguments of histories started before the one-object input, as that object. */
    private static JsonNode legacyInput(JsonNode source, JsonNode destination, JsonNode publication, JsonNode options) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.set("source", source);
        o.set("destination", destination);
        o.set("publication", publication);
        o.set("options", options);
        return o;
    }

    /** A mistyped signal name is not dropped silently: the status and the log say so. */
    private void unknownSignal(String name, EncodedValues args) {
        String warning = "unknown signal '" + name + "' ignored; the signals are cutover, rollback and finalize";
        LOG.warn("{}: {}", task.taskId(), warning);
        book.warn(warning);
    }

    private void replicateUntilCutover(ReplicationRequest forward, ReplicationRun run) {
        while (true) {
            run.rethrowIfEnded();
            measureLag(forward);
            boolean waitForSignal = options.manualCutover()
                    || book.failedAttemptsSinceLastSwap() >= options.maxAutomaticCutovers();
            boolean go = cutoverRequested
                    || (!waitForSignal && book.lagKnown() && book.lagBytes() <= options.lagThresholdBytes());
            if (go) {
                cutoverRequested = false;
                if (tryCutover()) {
                    return;
                }
                Workflow.await(Duration.ofSeconds(options.cutoverRetrySeconds()),
                        () -> cutoverRequested || run.hasEnded());
                continue;
            }
            TaskState waiting = waitForSignal ? TaskState.WAITING_FOR_CUTOVER : TaskState.RUNNING;
            if (book.state() != waiting) {
                record(Phase.REPLICATING, waiting); // the registry shows the wait too (tasks, SHOW TASKS)
            }
            Duration poll = waitForSignal ? WAIT_FOR_SIGNAL_POLL : Duration.ofSeconds(options.lagPollSeconds());
            Workflow.await(poll, () -> cutoverRequested || run.hasEnded());
        }
    }

    private boolean tryCutover() {
        trafficMayBePaused = true;
        record(Phase.CUTOVER, TaskState.RUNNING);
        String startedAt = StatusBook.now();
        CutoverResult result = attempt("CUTOVER", startedAt, () -> cutover.cutover(request()));
        if (!result.swapped()) {
            LOG.warn("cutover of {} did not swap: {}", task.taskId(), result.reason());
            record(Phase.REPLICATING, TaskState.RUNNING);
        }
        return result.swapped();
    }

    private TaskState reverseUntilDone(ReplicationRequest reverse, ReplicationRun run) {
        while (true) {
            run.rethrowIfEnded();
            if (finalizeRequested && mayFinalize(reverse)) {
                return TaskState.FINALIZED;
            }
            if (rollbackRequested) {
                rollbackRequested = false;
                String startedAt = StatusBook.now();
                CutoverResult result = attempt("ROLLBACK", startedAt, () -> cutover.rollback(request()));
                if (result.swapped()) {
                    return TaskState.ROLLED_BACK;
                }
                LOG.warn("rollback of {} did not swap: {}", task.taskId(), result.reason());
            }
            measureLag(reverse);
            Workflow.await(REVERSE_LAG_POLL, () -> finalizeRequested || rollbackRequested || run.hasEnded());
        }
    }

    /**
     * Finalize drops reverse replication: whatever the source has not applied by then is never applied.
     * So unless forced, it waits (bounded, in an activity) until reverse replication applied every
     * change the destination committed before this point, and is refused while it is failing.
     */
    private boolean mayFinalize(ReplicationRequest reverse) {
        if (Workflow.getVersion(FINALIZE_DRAIN_VERSION, Workflow.DEFAULT_VERSION, 1) == Workflow.DEFAULT_VERSION) {
            return true;
        }
        if (finalizeForced) {
            measureLag(reverse);
            ActivityProblem failing = book.failing(REPLICATE_ACTIVITY);
            book.warn("finalize --force: reverse replication ended with " + book.lagBytes() + " bytes of WAL not applied "
                    + "to " + task.source() + (failing == null ? "" : " (it was failing: " + failing.error() + ")")
                    + "; those changes are only on " + task.destination());
            return true;
        }
        finalizeRequested = false;
        ActivityProblem failing = book.failing(REPLICATE_ACTIVITY);
        String refused;
        if (failing != null) {
            refused = "reverse replication is failing (" + failing.subject() + ": " + failing.error() + ", "
                    + failing.attempts() + " attempts since " + failing.since() + ")";
        } else {
            DrainResult drain;
            try {
                drain = cutover.drainReverse(request());
            } catch (ActivityFailure f) {
                if (f.getCause() instanceof CanceledFailure c) {
                    throw c;
                }
                drain = new DrainResult(false, book.lagBytes(), describe(f));
            }
            if (drain.drained()) {
                return true;
            }
            refused = "reverse replication has not applied everything " + task.destination() + " committed ("
                    + drain.lagBytes() + " bytes behind: " + drain.reason() + ")";
        }
        book.warn("finalize refused: " + refused + "; finalizing now would leave those changes off " + task.source()
                + ". Fix the cause and finalize again, or `pgreshard finalize " + task.taskId() + " --force` to drop them");
        LOG.warn("finalize of {} refused: {}", task.taskId(), refused);
        return false;
    }

    /** A failed lag measurement (a shard down) must not hold up the task: signals are still served. */
    private void measureLag(ReplicationRequest stream) {
        try {
            book.lag(replication.status(stream));
        } catch (ActivityFailure f) {
            if (f.getCause() instanceof CanceledFailure c) {
                throw c;
            }
            book.lagUnknown(describe(f));
        }
    }

    /**
     * One cutover/rollback attempt, listed in the status while it runs (what it waits for shows among
     * the failing activities) and with its outcome after. One that failed outright is a failed
     * attempt: traffic stays where it was.
     */
    private CutoverResult attempt(String kind, String startedAt, java.util.function.Supplier<CutoverResult> call) {
        book.attemptRunning(kind, startedAt);
        CutoverResult result;
        try {
            result = call.get();
        } catch (ActivityFailure f) {
            if (f.getCause() instanceof CanceledFailure c) {
                throw c;
            }
            result = new CutoverResult(false, 0, 0, 0, describe(f));
        }
        book.activityStopped(kind.equals("CUTOVER") ? "CutoverCutover" : "CutoverRollback");
        book.attempt(kind, startedAt, result);
        return result;
    }

    private CutoverRequest request() {
        return new CutoverRequest(task, options.pauseBudgetMs(), options.fenceSource());
    }

    /** Drops what the task created and resumes proxies, even though the workflow itself was cancelled. */
    private void cleanup(Phase phase, TaskState state) {
        Workflow.newDetachedCancellationScope(() -> {
            if (trafficMayBePaused) {
                bestEffort("resume proxies", () -> cutover.resumeProxies(task));
            }
            if (slotsCreated) {
                bestEffort("drop forward replication slots",
                        () -> replication.dropSlots(new ReplicationRequest(task, Direction.FORWARD, List.of())));
                bestEffort("drop reverse replication slots",
                        () -> replication.dropSlots(new ReplicationRequest(task, Direction.REVERSE, List.of())));
            }
            record(phase, state);
        }).run();
    }

    private void bestEffort(String what, Runnable step) {
        try {
            step.run();
        } catch (ActivityFailure f) {
            book.warn("cleanup could not " + what + ": " + describe(f) + "; do it by hand (see the runbook)");
        }
    }

    private void record(Phase phase, TaskState state) {
        book.phase(phase, state);
        searchAttributes.phase(phase);
        try {
            control.recordTask(book.record());
        } catch (ActivityFailure f) {
            // the registry is a convenience for listing; the workflow's own status stays authoritative
            LOG.warn("could not record {} in the control store: {}", task.taskId(), describe(f));
        }
    }

    /** The innermost message: an ApplicationFailure's text is the one that names the table and the fix. */
    public static String describe(Throwable failure) {
        Throwable t = failure;
        while (t.getCause() != null && t instanceof TemporalFailure && !(t instanceof ApplicationFailure)) {
            t = t.getCause();
        }
        String message = t instanceof ApplicationFailure app ? app.getOriginalMessage() : t.getMessage();
        return message == null ? t.getClass().getSimpleName() : message;
    }

    @Override
    public void cutover() {
        if (book != null && book.phase().compareTo(Phase.CUTOVER) > 0) {
            book.warn("cutover signal ignored: the task is past its cutover (" + book.phase() + ")");
            return;
        }
        cutoverRequested = true;
    }

    @Override
    public void rollback() {
        if (book == null || book.phase() != Phase.REVERSE_REPLICATING) {
            warnNotNow("rollback", "there is nothing to roll back before the cutover; use stop to cancel the task");
            return;
        }
        rollbackRequested = true;
    }

    @Override
    public void finalizeTask(Boolean force) { // boxed: a signal sent without the argument (UI, older clients) is null
        if (book == null || book.phase() != Phase.REVERSE_REPLICATING) {
            warnNotNow("finalize", "finalize ends reverse replication after the cutover");
            return;
        }
        finalizeRequested = true;
        finalizeForced |= Boolean.TRUE.equals(force);
    }

    @Override
    public void activityFailing(ActivityFailureReport report) {
        if (book != null && report != null) {
            book.activityFailing(report);
        }
    }

    @Override
    public void activityRecovered(String key) {
        if (book != null) {
            book.activityRecovered(key);
        }
    }

    private void warnNotNow(String signal, String why) {
        if (book != null) {
            book.warn(signal + " signal ignored in phase " + book.phase() + ": " + why);
        }
    }

    @Override
    public ReshardStatus status() {
        return book == null ? null : book.snapshot();
    }
}
