package dev.pgreshard.cli;

import dev.pgreshard.cli.ShardCommandTest.Result;
import dev.pgreshard.cli.temporal.EmbeddedTemporal;
import dev.pgreshard.cli.worker.WorkerHost;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.FreePorts;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import io.temporal.client.WorkflowClient;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import io.temporal.worker.WorkerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.pgreshard.cli.ShardCommandTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * reshard / tasks / status / stop through the CLI, against the embedded Temporal server, a worker
 * and a real control store. (The data activities are exercised by their own tests.)
 */
@ExtendWith(PostgresExtension.class)
class TaskCommandsTest {

    @Test
    void startListInspectAndStopATask(TestDatabase control, TestDatabase src, TestDatabase d0, TestDatabase d1,
                                      @TempDir Path dir) throws Exception {
        int temporalPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + src.databasesEntry("src", 0) + d0.databasesEntry("dst", 0) + d1.databasesEntry("dst", 1));
        Files.writeString(dir.resolve("users.toml"), src.usersEntry("src") + d0.usersEntry("dst"));
        PgReshardConfig config = ConfigLoader.load(cfg);

        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            WorkflowServiceStubs stubs = WorkflowServiceStubs.newServiceStubs(
                    WorkflowServiceStubsOptions.newBuilder().setTarget("127.0.0.1:" + temporalPort).build());
            WorkerFactory factory = WorkerFactory.newInstance(WorkflowClient.newInstance(stubs));
            try (WorkerHost worker = WorkerHost.start(factory, config)) {
                Result started = run("reshard", "--config", cfg.toString(), "src", "dst", "pub", "--manual-cutover");
                assertEquals(0, started.exit(), started.err());
                List<String> lines = started.out().lines().toList();
                String taskId = lines.get(lines.size() - 1);
                assertTrue(taskId.matches("reshard-src-dst-\\d+"), taskId);

                Result again = run("reshard", "--config", cfg.toString(), "src", "dst", "pub");
                assertEquals(2, again.exit());
                assertTrue(again.err().contains("task " + taskId + " already reshards src into dst"), again.err());

                Result listed = run("tasks", "--config", cfg.toString());
                assertEquals(0, listed.exit(), listed.err());
                assertTrue(listed.out().lines().anyMatch(l -> l.startsWith(taskId) && l.contains("PREFLIGHT")), listed.out());

                Result status = run("status", "--config", cfg.toString(), taskId);
                assertEquals(0, status.exit(), status.err());
                assertEquals("phase: PREFLIGHT", status.out().lines().findFirst().orElseThrow());

                Result stopped = run("stop", "--config", cfg.toString(), taskId);
                assertEquals(0, stopped.exit(), stopped.err());
                assertTrue(stopped.out().startsWith("phase: STOPPED"), stopped.out());
                assertTrue(run("tasks", "--config", cfg.toString()).out().lines()
                        .anyMatch(l -> l.startsWith(taskId) && l.contains("STOPPED")));

                // the pair is free again once the first task stopped
                Result second = run("reshard", "--config", cfg.toString(), "src", "dst", "pub");
                assertEquals(0, second.exit(), second.err());
                run("stop", "--config", cfg.toString(), second.out().strip());
            } finally {
                stubs.shutdownNow();
            }
        }
    }

    @Test
    void badTaskInputIsExplained(TestDatabase control, TestDatabase src, @TempDir Path dir) throws Exception {
        int temporalPort = FreePorts.next();
        Path cfg = dir.resolve("pgreshard.toml");
        Files.writeString(cfg, "[temporal]\ntarget = \"127.0.0.1:" + temporalPort + "\"\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"postgres\"\npassword = \"postgres\"\n"
                + src.databasesEntry("src", 0));
        Result noTemporal = run("tasks", "--config", cfg.toString());
        assertEquals(1, noTemporal.exit());
        assertTrue(noTemporal.err().startsWith("pgreshard: cannot reach Temporal at 127.0.0.1:" + temporalPort),
                noTemporal.err());

        try (EmbeddedTemporal temporal = EmbeddedTemporal.start(temporalPort)) {
            Result unknownDb = run("reshard", "--config", cfg.toString(), "src", "nope", "pub");
            assertEquals(2, unknownDb.exit());
            assertTrue(unknownDb.err().contains("unknown database 'nope'"), unknownDb.err());
            Result unknownTask = run("status", "--config", cfg.toString(), "reshard-x-y-99");
            assertEquals(2, unknownTask.exit());
            assertTrue(unknownTask.err().contains("unknown task 'reshard-x-y-99'; `pgreshard tasks` lists the tasks"),
                    unknownTask.err());
            Result same = run("reshard", "--config", cfg.toString(), "src", "src", "pub");
            assertEquals(2, same.exit());
            assertTrue(same.err().contains("source and destination are both 'src'"), same.err());
        }
    }
}
