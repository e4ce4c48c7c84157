package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.ChildJvm;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import io.temporal.api.enums.v1.EventType;
import io.temporal.api.history.v1.HistoryEvent;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 21: two workers on one Temporal server; an outside client reads the task's
 * history and checks that the copy activities of one reshard completed on both workers (each worker
 * takes at most copy_slots = 1 copy at once), and that the destination equals the source (verify).
 */
@ExtendWith(PostgresExtension.class)
class ScaleOutTest {
    private static final Logger LOG = LoggerFactory.getLogger(ScaleOutTest.class);

    @Test
    void oneReshardsCopiesRunOnEveryWorker(TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                           @TempDir Path dir) throws Exception {
        // t1 (about 8 MB) is above the 2 MB split threshold: it is copied as key ranges of id
        for (String t : List.of("t1", "t2", "t3", "t4")) {
            src.execute("CREATE TABLE " + t + " (id bigint PRIMARY KEY, tenant bigint NOT NULL, note text)",
                    "INSERT INTO " + t + " SELECT g, g % 97, repeat('n', 40) FROM generate_series(1, "
                            + (t.equals("t1") ? 100000 : 15000) + ") g");
        }
        // shard-key-moving updates need the old key
        src.execute("ALTER TABLE t1 REPLICA IDENTITY FULL", "ALTER TABLE t2 REPLICA IDENTITY FULL",
                "CREATE PUBLICATION pub FOR TABLE t1, t2, t3, t4");
        int port = dev.pgreshard.testkit.FreePorts.next();
        Path cfg = writeConfig(dir, "127.0.0.1:" + port, control, src, d0, d1, "copy_split_threshold_bytes = 2097152\n");
        PgReshardConfig config = ConfigLoader.load(cfg);
        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(port)) {
            WorkflowServiceStubs stubs = stubs(port);
            try (WorkerHost a = WorkerHost.start(factory(stubs, "worker-a@scaleout-test"), config);
                 WorkerHost b = WorkerHost.start(factory(stubs, "worker-b@scaleout-test"), config);
                 KeyMover mover = new KeyMover(src, "t1", 100000)) {
                Result started = run("reshard", "--config", cfg.toString(), "src", "dst", "pub", "--manual-cutover");
                assertEquals(0, started.exit(), started.err());
                String taskId = started.out().strip();
                mover.start(); // primary-key updates move rows between the key ranges while they are copied
                awaitState(control, taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(6));
                mover.close();

                Map<String, Set<String>> byWorker = copyActivitiesByWorker(history(stubs, taskId));
                LOG.info("copy activities by worker identity: {}", byWorker);
                assertEquals(Set.of("worker-a@scaleout-test", "worker-b@scaleout-test"), byWorker.keySet(),
                        "copy activities must complete on both workers: " + byWorker);
                assertTrue(byWorker.values().stream().anyMatch(types -> types.contains("CopyRange")),
                        "t1 must be copied as key ranges: " + byWorker);
                Result status = run("status", "--config", cfg.toString(), taskId);
                String t1 = status.out().lines().filter(l -> l.contains("public.t1")).findFirst().orElse("");
                assertTrue(t1.matches(".*COPIED.* by worker-[ab]@scaleout-test: \\d+ ranges? at \\d+ B/s.*"),
                        "status names the workers of t1's ranges:\n" + status.out());
                assertTrue(mover.moved() > 0, "the writer moved no row");
                awaitVerifyClean(cfg, Duration.ofMinutes(2));
                assertEquals(0, run("stop", "--config", cfg.toString(), taskId).exit());
                assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"),
                        "no replication slot (the holders' temporary ones included) may outlive the task");
            } finally {
                stubs.shutdownNow();
            }
        }
    }

    private static WorkerFactory factory(WorkflowServiceStubs stubs, String identity) {
        return WorkerFactory.newInstance(WorkflowClient.newInstance(stubs,
                WorkflowClientOptions.newBuilder().setIdentity(identity).build()));
    }

    /**
     * Issue 21 fault: two worker JVMs copy one table as many key ranges; the one running a range (and not
     * holding the snapshot) is SIGKILLed mid-copy. Its range is retried on the other worker once the
     * heartbeat timeout notices the death, without waiting for a restart (each retry deletes its range
     * first); the table is not restarted; and nothing is lost or duplicated (verify, plus row counts and a
     * checksum against the source) although rows move between ranges and shards meanwhile.
     */
    @Test
    @org.junit.jupiter.api.Tag("faults")
    void aKilledWorkersRangesContinueOnTheOthers(TestDatabase control, TestDatabase src, TestDatabase d0,
                                                 TestDatabase d1, @TempDir Path dir) throws Exception {
        src.execute("CREATE TABLE t1 (id bigint PRIMARY KEY, tenant bigint NOT NULL, note text)",
                "INSERT INTO t1 SELECT g, g % 97, repeat('n', 200) FROM generate_series(1, 200000) g",
                "ALTER TABLE t1 REPLICA IDENTITY FULL",
                "CREATE TABLE t2 (id bigint PRIMARY KEY, tenant bigint NOT NULL, note text)",
                "ALTER TABLE t2 REPLICA IDENTITY FULL",
                "CREATE PUBLICATION pub FOR TABLE t1, t2");
        // Temporal in this JVM (a standalone server JVM did not start listening within a minute at load 36);
        // the workers are separate processes, so that one can be SIGKILLed
        int port = dev.pgreshard.testkit.FreePorts.next();
        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(port)) {
            Path cfg = writeConfig(dir, "127.0.0.1:" + port, control, src, d0, d1, "copy_split_threshold_bytes = 10485760\n");
            List<ChildJvm> workers = new java.util.ArrayList<>();
            WorkflowServiceStubs stubs = stubs(port);
            try (KeyMover mover = new KeyMover(src, "t1", 200000)) {
                for (int i = 0; i < 2; i++) {
                    workers.add(startWorker(cfg));
                }
                Result started = run("reshard", "--config", cfg.toString(), "src", "dst", "pub", "--manual-cutover");
                assertEquals(0, started.exit(), started.err());
                String taskId = started.out().strip();
                mover.start();
                RangeOnWorker running = awaitRangeWorker(stubs, control, taskId, workers);
                running.worker().kill();
                long killed = System.nanoTime();
                LOG.info("SIGKILLed worker {} while it copied {} (activity {}, attempt {})", running.worker().pid(),
                        running.range(), running.activityId(), running.attempt());
                ChildJvm survivor = workers.stream().filter(w -> w != running.worker()).findFirst().orElseThrow();
                // meanwhile, what an operator sees: the running ranges and their workers (in the background, so
                // that the wait for the retry below starts at once). A copy shows its range once it has heartbeated
                // ("table not reported yet", "range ?" before: the killed worker's may never have), so status is asked
                // again until it shows a range on one of the workers, for up to a minute
                java.util.regex.Pattern rangeLine = java.util.regex.Pattern.compile(
                        ".*(public\\.t1|\\(table not reported yet\\)).*range (\\d+/\\d+|\\?) on ("
                                + running.worker().pid() + "|" + survivor.pid() + ")@.*");
                // every poll's start, duration and exit (and first error line) go into the failure message: a miss
                // says whether status was slow, failing, or showed no range while the ranges ran
                List<String> polls = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                java.util.concurrent.CompletableFuture<String> live = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    long until = System.nanoTime() + Duration.ofMinutes(1).toNanos();
                    String out = pollStatus(cfg, taskId, polls);
                    while (out.lines().noneMatch(l -> rangeLine.matcher(l).matches()) && System.nanoTime() < until) {
                        java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(500).toNanos());
                        out = pollStatus(cfg, taskId, polls);
                    }
                    return out;
                });
                Retried retried = awaitRetried(stubs, taskId, running, killed, Duration.ofMinutes(3));
                String resumedBy = retried.completedBy();
                LOG.info("the killed range {} was retried {} s after the kill (heartbeat timeout 8 s) and completed by {} "
                        + "(attempt {})", running.range(), retried.retriedAfterSeconds(), resumedBy, retried.attempt());
                assertTrue(resumedBy.startsWith(survivor.pid() + "@"), resumedBy.startsWith(running.worker().pid() + "@")
                        ? "the range completed on the killed worker before the kill landed: the test missed mid-copy"
                        : "the killed worker's range must continue on the other worker, not " + resumedBy);
                assertTrue(retried.attempt() > running.attempt(), "the range completed by a retry: " + retried);
                assertTrue(retried.retriedAfterSeconds() >= 0, "the retry was seen among the pending activities");
                awaitState(control, taskId, "WAITING_FOR_CUTOVER", Duration.ofMinutes(6));
                mover.close();

                List<HistoryEvent> events = history(stubs, taskId);
                assertTrue(events.stream().noneMatch(e -> e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                                && e.getActivityTaskScheduledEventAttributes().getActivityType().getName().equals("EmptyTable")),
                        "a killed range worker must not restart the table");
                Map<String, Set<String>> byWorker = copyActivitiesByWorker(events);
                LOG.info("copy activities by worker after the kill: {}", byWorker);
                assertTrue(byWorker.containsKey(resumedBy) && byWorker.get(resumedBy).contains("CopyRange"), byWorker.toString());
                assertTrue(mover.moved() > 0, "the writer moved no row");
                awaitVerifyClean(cfg, Duration.ofMinutes(2));
                // the same, by hand: every source row once on the destination, no row twice, same content
                String sum = "SELECT count(*) || ':' || coalesce(sum(hashtext(id || '/' || tenant || '/' || note)), 0) FROM t1";
                long srcRows = src.queryLong("SELECT count(*) FROM t1");
                long dstRows = d0.queryLong("SELECT count(*) FROM t1") + d1.queryLong("SELECT count(*) FROM t1");
                assertEquals(srcRows, dstRows, "rows of t1: source vs both destination shards");
                long dstSum = Long.parseLong(d0.queryRows(sum).get(0).get(0).split(":")[1])
                        + Long.parseLong(d1.queryRows(sum).get(0).get(0).split(":")[1]);
                assertEquals(Long.parseLong(src.queryRows(sum).get(0).get(0).split(":")[1]), dstSum,
                        "checksum of t1: source vs both destination shards");
                assertEquals(0, run("stop", "--config", cfg.toString(), taskId).exit());
                String shown = live.get();
                assertTrue(shown.contains("copies running:") && shown.lines().anyMatch(l -> rangeLine.matcher(l).matches()),
                        "status lists the running key ranges with their workers:\n" + shown + "\nits polls: " + polls);
            } finally {
                stubs.shutdownNow();
                for (ChildJvm w : workers) {
                    w.close();
                }
            }
        }
    }

    private static WorkflowServiceStubs stubs(int port) {
        return WorkflowServiceStubs.newServiceStubs(
                WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + port).build());
    }

    /** A started CopyRange activity, the worker JVM running it, and which range it is. */
    record RangeOnWorker(ChildJvm worker, String activityId, int attempt, String range) {
    }

    private static List<io.temporal.api.workflow.v1.PendingActivityInfo> pending(WorkflowServiceStubs stubs, String taskId) {
        return stubs.blockingStub().describeWorkflowExecution(
                io.temporal.api.workflowservice.v1.DescribeWorkflowExecutionRequest.newBuilder()
                        .setNamespace("default").setExecution(io.temporal.api.common.v1.WorkflowExecution
                                .newBuilder().setWorkflowId(taskId).build()).build()).getPendingActivitiesList();
    }

    /**
     * A worker running a CopyRange that is not the one holding the snapshot (from Temporal's pending
     * activities). Waits as long as the task is still before or in its copy (worker JVMs and the first
     * steps are slow on a busy machine); fails only once the copy is over without such a range being seen,
     * or after 10 minutes, with what it saw.
     */
    private static RangeOnWorker awaitRangeWorker(WorkflowServiceStubs stubs, TestDatabase control, String taskId,
                                                  List<ChildJvm> workers) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        String seen = "nothing";
        while (System.nanoTime() < deadline) {
            try {
                var pending = pending(stubs, taskId);
                Set<String> holders = new TreeSet<>();
                pending.stream().filter(a -> a.getActivityType().getName().equals("HoldSnapshot"))
                        .forEach(a -> holders.add(a.getLastWorkerIdentity()));
                List<String> types = new java.util.ArrayList<>();
                for (var a : pending) {
                    String who = a.getLastWorkerIdentity();
                    types.add(a.getActivityType().getName() + "@" + who + "/" + a.getState());
                    // a range started moments ago: a range takes a second or more here, so the kill lands mid-copy
                    long runningMillis = System.currentTimeMillis() - a.getLastStartedTime().getSeconds() * 1000
                            - a.getLastStartedTime().getNanos() / 1_000_000;
                    if (a.getActivityType().getName().equals("CopyRange")
                            && a.getState() == io.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
                            && a.hasLastStartedTime() && runningMillis < 400
                            && !holders.isEmpty() && !who.isEmpty() && !holders.contains(who)) {
                        for (ChildJvm w : workers) {
                            if (who.startsWith(w.pid() + "@")) {
                                return new RangeOnWorker(w, a.getActivityId(), a.getAttempt(),
                                        "activity " + a.getActivityId() + " of " + taskId + " (running for " + runningMillis
                                                + " ms)");
                            }
                        }
                    }
                }
                seen = types.toString();
            } catch (io.grpc.StatusRuntimeException notYet) {
                seen = notYet.getStatus().toString(); // the workflow may not exist yet
            }
            List<String> row = control.queryRows("SELECT phase, state FROM pgreshard_task WHERE task_id = '" + taskId + "'")
                    .stream().findFirst().orElse(List.of("", ""));
            if (!row.get(0).isEmpty() && !List.of("PREFLIGHT", "SCHEMA_PRE", "COPY").contains(row.get(0))) {
                throw new AssertionError("the copy of " + taskId + " ended (phase " + row + ") before a key range was "
                        + "seen running on a worker other than the snapshot holder's; last pending: " + seen);
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no key range of " + taskId + " ran on a worker other than the snapshot holder's "
                + "within 10 minutes; last pending: " + seen);
    }

    /** How the killed range ended: the worker that completed it, with which attempt, and when it was retried. */
    record Retried(String completedBy, int attempt, double retriedAfterSeconds) {
    }

    /**
     * Waits for the killed range to be retried (Temporal's pending activity shows the next attempt) and to
     * complete; who completed it, and with which attempt, is read from the history (the pending activity's
     * worker identity is not updated for a retry by the test server).
     */
    private static Retried awaitRetried(WorkflowServiceStubs stubs, String taskId, RangeOnWorker killed, long killedAt,
                                        Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        double retriedAfter = -1;
        while (System.nanoTime() < deadline) {
            var still = pending(stubs, taskId).stream().filter(a -> a.getActivityId().equals(killed.activityId()))
                    .findFirst();
            if (still.isPresent() && still.get().getAttempt() > killed.attempt() && retriedAfter < 0) {
                retriedAfter = (System.nanoTime() - killedAt) / 1e9;
            }
            if (still.isEmpty()) {
                // the server keeps an activity's completion buffered while a workflow task is in flight: gone from
                // the pending activities, not yet in the history; read it again for a while before concluding
                long historyDeadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                List<HistoryEvent> own = eventsOf(history(stubs, taskId), killed.activityId());
                while (!ended(own) && System.nanoTime() < historyDeadline) {
                    Thread.sleep(200);
                    own = eventsOf(history(stubs, taskId), killed.activityId());
                }
                int attempt = 0;
                for (HistoryEvent e : own) {
                    if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED) {
                        attempt = e.getActivityTaskStartedEventAttributes().getAttempt();
                    } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
                        return new Retried(e.getActivityTaskCompletedEventAttributes().getIdentity(), attempt, retriedAfter);
                    }
                }
                throw new AssertionError("the killed range " + killed.range() + " left the pending activities without "
                        + "completing on any worker; its events: " + describe(own));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the killed range " + killed.range() + " did not complete within " + timeout
                + (retriedAfter < 0 ? " (never retried)" : " (retried " + retriedAfter + " s after the kill)"));
    }

    /** The events of one activity in a history: its scheduling and every event that points back at it. */
    private static List<HistoryEvent> eventsOf(List<HistoryEvent> history, String activityId) {
        Set<Long> scheduled = new java.util.HashSet<>();
        List<HistoryEvent> own = new java.util.ArrayList<>();
        for (HistoryEvent e : history) {
            if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
                    && e.getActivityTaskScheduledEventAttributes().getActivityId().equals(activityId)) {
                scheduled.add(e.getEventId());
                own.add(e);
            } else if (scheduled.contains(scheduledEventId(e))) {
                own.add(e);
            }
        }
        return own;
    }

    /** The scheduling event an activity event points back at; -1 for any other event. */
    private static long scheduledEventId(HistoryEvent e) {
        if (e.hasActivityTaskStartedEventAttributes()) {
            return e.getActivityTaskStartedEventAttributes().getScheduledEventId();
        } else if (e.hasActivityTaskCompletedEventAttributes()) {
            return e.getActivityTaskCompletedEventAttributes().getScheduledEventId();
        } else if (e.hasActivityTaskFailedEventAttributes()) {
            return e.getActivityTaskFailedEventAttributes().getScheduledEventId();
        } else if (e.hasActivityTaskTimedOutEventAttributes()) {
            return e.getActivityTaskTimedOutEventAttributes().getScheduledEventId();
        } else if (e.hasActivityTaskCancelRequestedEventAttributes()) {
            return e.getActivityTaskCancelRequestedEventAttributes().getScheduledEventId();
        } else if (e.hasActivityTaskCanceledEventAttributes()) {
            return e.getActivityTaskCanceledEventAttributes().getScheduledEventId();
        }
        return -1;
    }

    /** Whether an activity's events include its end (completed, failed, timed out or canceled). */
    private static boolean ended(List<HistoryEvent> own) {
        return own.stream().anyMatch(e -> e.hasActivityTaskCompletedEventAttributes() || e.hasActivityTaskFailedEventAttributes()
                || e.hasActivityTaskTimedOutEventAttributes() || e.hasActivityTaskCanceledEventAttributes());
    }

    /** An activity's events for a failing assertion: type, attempt, worker and failure message. */
    private static String describe(List<HistoryEvent> own) {
        List<String> out = new java.util.ArrayList<>();
        for (HistoryEvent e : own) {
            if (e.hasActivityTaskStartedEventAttributes()) {
                out.add("STARTED attempt " + e.getActivityTaskStartedEventAttributes().getAttempt() + " by "
                        + e.getActivityTaskStartedEventAttributes().getIdentity());
            } else if (e.hasActivityTaskCompletedEventAttributes()) {
                out.add("COMPLETED by " + e.getActivityTaskCompletedEventAttributes().getIdentity());
            } else if (e.hasActivityTaskFailedEventAttributes()) {
                out.add("FAILED: " + e.getActivityTaskFailedEventAttributes().getFailure().getMessage());
            } else if (e.hasActivityTaskTimedOutEventAttributes()) {
                out.add("TIMED OUT: " + e.getActivityTaskTimedOutEventAttributes().getFailure().getMessage());
            } else if (e.hasActivityTaskCancelRequestedEventAttributes()) {
                out.add("CANCEL REQUESTED");
            } else if (e.hasActivityTaskCanceledEventAttributes()) {
                out.add("CANCELED");
            } else {
                out.add("SCHEDULED");
            }
        }
        return out.isEmpty() ? "none in the history" : String.join(", ", out);
    }

    /** The task's history, as an outside Temporal client reads it. */
    static List<HistoryEvent> history(WorkflowServiceStubs stubs, String taskId) {
        return WorkflowClient.newInstance(stubs).fetchHistory(taskId).getEvents();
    }

    /** verify until clean (replication may still be applying the writer's last changes), else fail with its report. */
    static void awaitVerifyClean(Path cfg, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Result verify = run("verify", "--config", cfg.toString(), "src", "dst", "pub");
            if (verify.exit() == 0) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("destination differs from source:\n" + verify.out() + verify.err());
            }
            Thread.sleep(2000);
        }
    }

    /** Moves rows between key ranges (UPDATE of the primary key) and between shards (tenant), until closed. */
    static final class KeyMover implements AutoCloseable {
        private final TestDatabase db;
        private final String table;
        private final long rows;
        private final java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();
        private final java.util.concurrent.atomic.AtomicLong moved = new java.util.concurrent.atomic.AtomicLong();
        private Thread thread;

        KeyMover(TestDatabase db, String table, long rows) {
            this.db = db;
            this.table = table;
            this.rows = rows;
        }

        void start() {
            running.set(true);
            thread = new Thread(() -> {
                java.util.Random r = new java.util.Random(21);
                try (java.sql.Connection c = db.connect();
                     java.sql.PreparedStatement move = c.prepareStatement("UPDATE " + table
                             + " SET id = ?, tenant = tenant + 1 WHERE id = ?")) {
                    long next = rows * 10;
                    while (running.get()) {
                        move.setLong(1, next++);
                        move.setLong(2, 1 + r.nextInt((int) rows));
                        moved.addAndGet(move.executeUpdate());
                        Thread.sleep(2);
                    }
                } catch (Exception e) {
                    throw new IllegalStateException("key mover failed", e);
                }
            }, "scaleout-key-mover");
            thread.start();
        }

        long moved() {
            return moved.get();
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            if (thread != null) {
                thread.join();
            }
        }
    }

    static Path writeConfig(Path dir, String temporalTarget, TestDatabase control, TestDatabase src,
                            TestDatabase d0, TestDatabase d1, String general) throws Exception {
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[general]\ncopy_parallelism = 4\n" + general
                + "[temporal]\ntarget = \"" + temporalTarget + "\"\nheartbeat_timeout_seconds = 8\ncopy_slots = 1\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1)
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"t1\"\ncolumn = \"tenant\"\ndata_type = \"bigint\"\n"
                + "[[sharded_tables]]\ndatabase = \"dst\"\nname = \"t2\"\ncolumn = \"tenant\"\ndata_type = \"bigint\"\n");
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        return cfg;
    }

    /** Worker identity → copy activity types it completed, from the task's history. */
    static Map<String, Set<String>> copyActivitiesByWorker(List<HistoryEvent> events) {
        Map<Long, String> scheduled = new HashMap<>();
        Map<String, Set<String>> byWorker = new TreeMap<>();
        for (HistoryEvent e : events) {
            if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
                scheduled.put(e.getEventId(), e.getActivityTaskScheduledEventAttributes().getActivityType().getName());
            } else if (e.getEventType() == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
                var done = e.getActivityTaskCompletedEventAttributes();
                String type = scheduled.get(done.getScheduledEventId());
                if (type != null && type.startsWith("Copy")) {
                    byWorker.computeIfAbsent(done.getIdentity(), k -> new TreeSet<>()).add(type);
                }
            }
        }
        return byWorker;
    }

    static ChildJvm startWorker(Path cfg) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return startWorkerOnce(cfg);
            } catch (AssertionError e) {
                if (!e.getMessage().contains("cannot reach Temporal") || attempt == 3) {
                    throw e;
                }
                LOG.warn("worker start timed out reaching Temporal (busy machine); starting it again");
            }
        }
    }

    private static ChildJvm startWorkerOnce(Path cfg) throws InterruptedException {
        ChildJvm jvm = ChildJvm.start(PgReshardCommand.class.getName(), List.of("-Xmx384m"),
                List.of("worker", "--config", cfg.toString()));
        long deadline = System.nanoTime() + Duration.ofSeconds(300).toNanos(); // a JVM start takes minutes at load 40
        while (!jvm.output().contains("pgreshard worker running")) {
            if (!jvm.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("worker did not start:\n" + jvm.output());
            }
            Thread.sleep(100);
        }
        return jvm;
    }

    static void awaitState(TestDatabase control, String taskId, String state, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> row = control.queryRows("SELECT phase, state, error FROM pgreshard_task WHERE task_id = '"
                    + taskId + "'").get(0);
            if (row.get(1).equals(state)) {
                return;
            }
            if (row.get(0).equals("FAILED") || System.nanoTime() > deadline) {
                throw new AssertionError("task " + taskId + " did not reach " + state + ": " + row);
            }
            Thread.sleep(200);
        }
    }

    /** One {@code status} run for the live poll, noting when it started, how long it took and how it ended. */
    private static String pollStatus(Path cfg, String taskId, List<String> polls) {
        long start = System.nanoTime();
        Result r = run("status", "--config", cfg.toString(), taskId);
        polls.add(java.time.LocalTime.now() + " " + (System.nanoTime() - start) / 1_000_000 + " ms exit " + r.exit()
                + (r.err().isBlank() ? "" : " err " + r.err().lines().findFirst().orElse("")));
        return r.out();
    }
}
