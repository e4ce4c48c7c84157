package dev.pgreshard.activities.control;

import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.TaskRef;
import dev.pgreshard.workflows.control.ControlActivities;
import dev.pgreshard.workflows.control.TaskRecord;
import dev.pgreshard.workflows.control.WorkerDefaults;
import io.temporal.failure.ApplicationFailure;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The claims of the workflow's first step, against a real control store. */
@ExtendWith(PostgresExtension.class)
class TaskClaimsTest {

    private static PgReshardConfig config(TestDatabase control, TestDatabase a, TestDatabase b) {
        String toml = "[general]\ncutover_pause_budget_ms = 750\ncutover_lag_threshold_bytes = 4096\n"
                + "[control]\nurl = \"" + control.jdbcUrl() + "\"\nuser = \"" + control.server().superuser()
                + "\"\npassword = \"" + control.server().password() + "\"\n"
                + Clusters.toml(List.of(a), List.of(b, b), "") + a.databasesEntry("other", 0);
        return ConfigLoader.parse("pgreshard.toml", toml, "users.toml", Clusters.users(a) + a.usersEntry("other"));
    }

    private static String refusal(ControlActivities control, TaskRef task) {
        ApplicationFailure f = assertThrows(ApplicationFailure.class, () -> control.claimTask(task));
        assertEquals(ControlActivities.CLAIM_REFUSED, f.getType());
        assertTrue(f.isNonRetryable());
        return f.getOriginalMessage();
    }

    @Test
    void onePairOneTaskWhoeverStartedIt(TestDatabase control, TestDatabase a, TestDatabase b) {
        PgReshardConfig config = config(control, a, b);
        try (ControlStore store = ControlStore.open(config.requireControl())) {
            ControlActivitiesImpl activities = new ControlActivitiesImpl(config, store);
            TaskRef first = new TaskRef("reshard-src-dst-1", "src", "dst", "pub");
            WorkerDefaults d = activities.claimTask(first);
            assertEquals(new WorkerDefaults(2, 4096, 750), d, "parallelism = the destination's 2 shards");
            assertEquals("PREFLIGHT", store.tasks().findById(first.taskId()).orElseThrow().phase());
            activities.claimTask(first); // a retry of the same claim passes

            // a second workflow for the same pair, started from outside under any id
            String m = refusal(activities, new TaskRef("my-own-id", "src", "dst", "pub"));
            assertTrue(m.startsWith("task reshard-src-dst-1 already reshards src into dst (phase PREFLIGHT)"), m);
            // another task into the same destination
            m = refusal(activities, new TaskRef("t2", "other", "dst", "pub"));
            assertTrue(m.startsWith("cluster 'dst' is in use by task reshard-src-dst-1"), m);
            // an id registered for another pair: refused, and that row is not overwritten
            m = refusal(activities, new TaskRef("reshard-src-dst-1", "other", "src", "pub"));
            assertTrue(m.startsWith("task id 'reshard-src-dst-1' is already registered for src -> dst"), m);
            activities.recordTask(new TaskRecord("reshard-src-dst-1", "other", "src", "pub", "FAILED", "FAILED", 0, "x"));
            TaskRow row = store.tasks().findById("reshard-src-dst-1").orElseThrow();
            assertEquals(List.of("src", "dst", "PREFLIGHT"), List.of(row.source(), row.destination(), row.phase()));
            assertTrue(store.tasks().findById("my-own-id").isEmpty(), "a refused claim registers nothing");

            // once the first task ended, the pair is free; its id is not reusable
            activities.recordTask(new TaskRecord("reshard-src-dst-1", "src", "dst", "pub", "DONE", "ROLLED_BACK", 0, ""));
            m = refusal(activities, first);
            assertTrue(m.contains("belongs to an earlier task that ended"), m);
            activities.claimTask(new TaskRef("reshard-src-dst-2", "src", "dst", "pub"));
            activities.recordTask(new TaskRecord("reshard-src-dst-2", "src", "dst", "pub", "FAILED", "FAILED", 0, ""));

            // routes: a source routed elsewhere, a destination serving another database
            store.routes().install("src", "other", 1, "reshard-src-other-9");
            m = refusal(activities, new TaskRef("t3", "src", "dst", "pub"));
            assertTrue(m.startsWith("source database 'src' is routed to cluster 'other'"), m);
            m = refusal(activities, new TaskRef("t4", "dst", "other", "pub"));
            assertTrue(m.startsWith("destination 'other' serves database 'src'"), m);
            store.routes().install("src", "src", 2, "reshard-src-other-9"); // rolled back: src is the source again
            activities.claimTask(new TaskRef("t5", "src", "dst", "pub"));

            m = refusal(activities, new TaskRef("t6", "nosuchdb", "dst", "pub"));
            assertTrue(m.startsWith("unknown database 'nosuchdb'"), m);
        }
    }
}
