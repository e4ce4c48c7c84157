package dev.pgreshard.activities.copy;

import dev.pgreshard.activities.catalog.Failures;
import dev.pgreshard.activities.preflight.PreflightActivitiesImpl;
import dev.pgreshard.activities.schema.SchemaActivitiesImpl;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.activities.verify.VerifyActivitiesImpl;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.copy.CopyActivities;
import dev.pgreshard.workflows.copy.CopyProgress;
import dev.pgreshard.workflows.copy.TableCopyRequest;
import dev.pgreshard.workflows.copy.TableCopyResult;
import dev.pgreshard.workflows.preflight.PreflightActivities;
import dev.pgreshard.workflows.schema.SchemaActivities;
import dev.pgreshard.workflows.verify.VerifyActivities;
import io.temporal.activity.ActivityOptions;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.ApplicationFailure;
import io.temporal.testing.TestActivityEnvironment;
import io.temporal.testing.TestEnvironmentOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The activity wrappers under Temporal's test activity environment: results, heartbeats, non-retryable failures. */
@ExtendWith(PostgresExtension.class)
class CopyActivitiesTest {

    @Test
    void activitiesRunHeartbeatAndFailNonRetryably(TestDatabase src, TestDatabase dst0, TestDatabase dst1) {
        src.execute("CREATE TABLE t (k bigint PRIMARY KEY, v text)",
                "INSERT INTO t SELECT g, repeat('v', 200) FROM generate_series(1, 300000) g",
                "CREATE TABLE nopk (v text)", "CREATE PUBLICATION pub FOR TABLE t");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), Clusters.sharded("t", "k", "bigint"));
        PgConnector connector = new PgConnector(config);
        TestActivityEnvironment env = TestActivityEnvironment.newInstance(TestEnvironmentOptions.getDefaultInstance());
        try {
            env.registerActivitiesImplementations(new PreflightActivitiesImpl(config, connector),
                    new SchemaActivitiesImpl(config, connector), new CopyActivitiesImpl(config, connector),
                    new VerifyActivitiesImpl(config, connector));
            ActivityOptions options = ActivityOptions.newBuilder().setStartToCloseTimeout(Duration.ofMinutes(2))
                    .setRetryOptions(RetryOptions.newBuilder().setMaximumAttempts(1).build()).build();
            List<CopyProgress> heartbeats = new CopyOnWriteArrayList<>();
            env.setActivityHeartbeatListener(CopyProgress.class, heartbeats::add);

            assertEquals(1, env.newActivityStub(PreflightActivities.class, options).check(TASK).tables().size());
            env.newActivityStub(SchemaActivities.class, options).syncPreData(TASK);
            heartbeats.clear(); // schema sync heartbeats too (liveness only, no details)
            TableCopyResult result = env.newActivityStub(CopyActivities.class, options)
                    .copyTable(new TableCopyRequest(TASK, TableName.parse("t")));
            assertEquals(300_000, result.rows());
            assertTrue(!heartbeats.isEmpty(), "heartbeats carry progress");
            // heartbeats are throttled, so the last one sent may precede the end; they only ever grow
            for (int i = 1; i < heartbeats.size(); i++) {
                assertTrue(heartbeats.get(i).rows() >= heartbeats.get(i - 1).rows());
            }
            assertTrue(heartbeats.get(heartbeats.size() - 1).rows() <= 300_000);
            assertTrue(heartbeats.get(heartbeats.size() - 1).bytes() <= result.bytes());
            // readable in the Temporal UI: the table and how far its ranges are
            assertTrue(heartbeats.stream().allMatch(h -> h.table().equals("public.t")), heartbeats.toString());
            assertTrue(heartbeats.stream().anyMatch(h -> h.ranges().matches("\\d+ of \\d+ block ranges? copied")),
                    heartbeats.toString());
            assertTrue(env.newActivityStub(VerifyActivities.class, options).verify(TASK).ok());

            // cancellation arrives with a heartbeat: the copy aborts its streams and its temporary slot goes away
            dst0.execute("TRUNCATE t");
            dst1.execute("TRUNCATE t");
            List<CopyProgress> beforeCancel = new CopyOnWriteArrayList<>();
            env.setActivityHeartbeatListener(CopyProgress.class, p -> {
                beforeCancel.add(p);
                env.requestCancelActivity();
            });
            assertThrows(RuntimeException.class, () -> env.newActivityStub(CopyActivities.class, options)
                    .copyTable(new TableCopyRequest(TASK, TableName.parse("t"))));
            assertTrue(!beforeCancel.isEmpty());
            assertEquals(0, src.awaitLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()", 0, 10_000),
                    "no slot left after cancel");
            assertEquals(0, src.queryLong("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgreshard' "
                    + "AND query LIKE 'COPY%'"), "no COPY left running on the source");

            src.execute("ALTER PUBLICATION pub ADD TABLE nopk");
            ActivityFailure failure = assertThrows(ActivityFailure.class,
                    () -> env.newActivityStub(PreflightActivities.class, options).check(TASK));
            ApplicationFailure cause = (ApplicationFailure) failure.getCause();
            assertTrue(cause.isNonRetryable());
            assertEquals(Failures.NOT_RETRYABLE, cause.getType());
            assertTrue(cause.getOriginalMessage().contains("table public.nopk has no primary key on source src shard 0"),
                    cause.getOriginalMessage());
        } finally {
            env.close();
        }
    }
}
