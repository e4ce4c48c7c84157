package dev.pgreshard.cli;

import dev.pgreshard.activities.control.TaskRow;
import dev.pgreshard.cli.task.WorkflowTaskCommands;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.metrics.Metrics;
import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.proxy.admin.TaskCommands.Rows;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.reshard.ReshardInput;
import dev.pgreshard.workflows.reshard.ReshardOptions;
import io.micrometer.core.instrument.Gauge;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replication stream that a destination shard refuses (issue 15/17): its cause — table, shard,
 * the server's message — and its attempts show in `pgreshard status`, SHOW TASKS (the control
 * store's row) and the failing-attempts gauge within one retry, and leave them once the cause is
 * fixed and the stream applies again.
 */
@ExtendWith(PostgresExtension.class)
class FailingStreamVisibleTest {

    @Test
    void aRefusedChangeIsVisibleEverywhereUntilItApplies(TestDatabase control, TestDatabase src, TestDatabase d0,
                                                         TestDatabase d1, @TempDir Path dir) throws Exception {
        CutoverScenario s = CutoverScenario.create(dir, control, src, d0, d1, "");
        s.createSourceTables();
        try (CutoverScenario.Services services = s.startServices()) {
            // an id of its own: the replication slot is named after it on the test server every test shares
            String task = "reshard-src-dst-failing-stream";
            services.startTask(task, new ReshardInput("src", "dst", "pub",
                    new ReshardOptions(true, null, null, null, null, null, null, null)));
            s.awaitStatus(task, "WAITING_FOR_CUTOVER");
            // a constraint only shard 1 has: the next order of a customer on shard 1 cannot be applied there
            d1.execute("ALTER TABLE orders ADD CONSTRAINT no_rejected_notes CHECK (note <> 'rejected')");
            long customer = 1;
            ShardFunction fn = new ShardFunction(ShardKeyType.BIGINT, 2);
            while (fn.shardOfText(Long.toString(customer)) != 1) {
                customer++;
            }
            src.execute("INSERT INTO orders (customer_id, note) VALUES (" + customer + ", 'rejected')");

            String status = s.awaitStatus(task, "failing: ReplicationReplicate");
            String line = status.lines().filter(l -> l.startsWith("failing: ReplicationReplicate")).findFirst().orElseThrow();
            assertTrue(line.contains("public.orders") && line.contains("dst shard 1") && line.contains("no_rejected_notes")
                    && line.contains("attempt") && line.contains("since"), line);
            assertTrue(!line.contains("earlier batch"), line);

            TaskRow row = services.tasks().tasks().stream().filter(r -> r.taskId().equals(task)).findFirst().orElseThrow();
            assertTrue(row.failing().startsWith("ReplicationReplicate") && row.failing().contains("no_rejected_notes"),
                    row.failing());
            assertTrue(row.failingAttempts() >= 1 && row.failingSince() != null, row.toString());
            Rows shown = new WorkflowTaskCommands(ConfigLoader.load(s.config), services.tasks()).showTasks();
            int failingColumn = shown.columns().indexOf("failing");
            assertTrue(failingColumn > 0, shown.columns().toString());
            assertTrue(shown.rows().get(0).get(failingColumn).contains("no_rejected_notes"), shown.rows().toString());
            Gauge attempts = Metrics.registry().find("pgreshard.activity.failing.attempts").tag("task", task)
                    .tag("activity", "ReplicationReplicate").gauge();
            assertNotNull(attempts, "no failing-attempts gauge for the task");
            assertTrue(attempts.value() >= 1, "attempts: " + attempts.value());

            // fixed: the stream applies the row at its next attempt and the problem leaves every view
            d1.execute("ALTER TABLE orders DROP CONSTRAINT no_rejected_notes");
            long deadline = System.currentTimeMillis() + 180_000;
            while (s.status(task).contains("failing:")) {
                assertTrue(System.currentTimeMillis() < deadline, "still failing after the fix:\n" + s.status(task));
                Thread.sleep(500);
            }
            assertEquals(1, d1.queryLong("SELECT count(*) FROM orders WHERE note = 'rejected'"));
            row = services.tasks().tasks().stream().filter(r -> r.taskId().equals(task)).findFirst().orElseThrow();
            assertEquals("", row.failing());
            assertNull(Metrics.registry().find("pgreshard.activity.failing.attempts").tag("task", task).gauge());

            assertEquals(0, s.cli("stop", task).exit());
            s.assertNothingLeft();
        }
    }
}
