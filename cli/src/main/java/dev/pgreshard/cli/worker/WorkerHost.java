package dev.pgreshard.cli.worker;

import dev.pgreshard.activities.control.ControlActivitiesImpl;
import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.activities.copy.CopyActivitiesImpl;
import dev.pgreshard.activities.cutover.CutoverActivitiesImpl;
import dev.pgreshard.activities.preflight.PreflightActivitiesImpl;
import dev.pgreshard.activities.replication.ReplicationActivitiesImpl;
import dev.pgreshard.activities.schema.SchemaActivitiesImpl;
import dev.pgreshard.activities.verify.VerifyActivitiesImpl;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.workflows.reshard.ReshardWorkerOptions;
import dev.pgreshard.workflows.reshard.ReshardWorkflowImpl;
import dev.pgreshard.workflows.schema.SchemaActivities;
import dev.pgreshard.activities.support.ActivityProblems;
import dev.pgreshard.workflows.control.ControlActivities;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.cutover.CutoverActivities;
import dev.pgreshard.workflows.preflight.PreflightActivities;
import dev.pgreshard.workflows.replication.ReplicationActivities;
import dev.pgreshard.workflows.verify.VerifyActivities;
import io.temporal.worker.Worker;
import io.temporal.worker.WorkerFactory;
import io.temporal.worker.WorkerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * A Temporal worker for {@code ReshardWorkflow} and its activities, on {@code [temporal] task_queue}.
 * Activity options are set here, at registration (see {@link ReshardWorkerOptions}).
 */
public final class WorkerHost implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WorkerHost.class);
    private final WorkerFactory factory;
    private final ControlStore controlStore;

    private WorkerHost(WorkerFactory factory, ControlStore controlStore) {
        this.factory = factory;
        this.controlStore = controlStore;
    }

    public static WorkerHost start(WorkerFactory factory, PgReshardConfig config) {
        return start(factory, config, null);
    }

    /**
     * @param schema the schema-sync activities to register instead of the pg_dump ones (the demo, on a
     *               machine without PostgreSQL's client tools); null for the real ones
     */
    public static WorkerHost start(WorkerFactory factory, PgReshardConfig config, SchemaActivities schema) {
        ControlStore store = ControlStore.open(config.requireControl());
        try {
            Worker worker = factory.newWorker(config.temporal().taskQueue(), WorkerOptions.newBuilder()
                    // a killed worker's workflow must move to another worker at once (docs/architecture.md §5)
                    .setStickyQueueScheduleToStartTimeout(Duration.ZERO)
                    // a cancellation reaches an activity only with a heartbeat reply: the forward stream
                    // must stop within about a second of the cutover, not 0.8 heartbeat timeouts later
                    .setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1))
                    .build());
            Duration heartbeat = Duration.ofSeconds(config.temporal().heartbeatTimeoutSeconds());
            String copyQueue = config.temporal().copyTaskQueue();
            worker.registerWorkflowImplementationTypes(ReshardWorkerOptions.forHeartbeatTimeout(heartbeat)
                    .implementationOptions(copyQueue), ReshardWorkflowImpl.class);
            PgConnector connector = new PgConnector(config);
            // every activity's failed attempts are reported where operators look (ActivityProblems)
            ActivityProblems.install(store.tasks());
            CopyActivities copy = ActivityProblems.reporting(CopyActivities.class, new CopyActivitiesImpl(config, connector,
                    factory.getWorkflowClient().getOptions().getIdentity()));
            // copies go to their own queue, where this worker takes at most copy_slots at once: the other
            // workers take the rest (with one queue, one worker's 200 activity slots took every table)
            Worker copyWorker = factory.newWorker(copyQueue, WorkerOptions.newBuilder()
                    .setMaxConcurrentActivityExecutionSize(config.temporal().effectiveCopySlots())
                    .setMaxHeartbeatThrottleInterval(Duration.ofSeconds(1))
                    .build());
            copyWorker.registerActivitiesImplementations(copy);
            worker.registerActivitiesImplementations(
                    ActivityProblems.reporting(ControlActivities.class, new ControlActivitiesImpl(config, store)),
                    ActivityProblems.reporting(PreflightActivities.class, new PreflightActivitiesImpl(config, connector)),
                    ActivityProblems.reporting(SchemaActivities.class,
                            schema != null ? schema : new SchemaActivitiesImpl(config, connector)),
                    copy, // copies scheduled on the main queue by a task started before the copy queue existed
                    ActivityProblems.reporting(ReplicationActivities.class, new ReplicationActivitiesImpl(config, connector)),
                    ActivityProblems.reporting(VerifyActivities.class, new VerifyActivitiesImpl(config, connector)),
                    ActivityProblems.reporting(CutoverActivities.class, new CutoverActivitiesImpl(config, connector, store)));
            factory.start();
            LOG.info("worker polling task queues '{}' and '{}' ({} copy slots) at {}", config.temporal().taskQueue(),
                    copyQueue, config.temporal().effectiveCopySlots(), config.temporal().address());
            return new WorkerHost(factory, store);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    @Override
    public void close() {
        factory.shutdown();
        factory.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
        controlStore.close();
    }
}
