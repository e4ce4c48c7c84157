package dev.pgreshard.proxy;

import dev.pgreshard.proxy.admin.TaskCommands;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin database: rows like any query, errors (never dropped connections) for anything wrong. */
@ExtendWith(PostgresExtension.class)
class AdminDatabaseTest {

    @Test
    void commandsAnswerWithRowsAndErrorsKeepTheSession(TestDatabase db) throws Exception {
        try (ProxyFixture proxy = new ProxyFixture().cluster("prod", db).start(); Connection admin = proxy.connectAdmin();
             Statement s = admin.createStatement()) {
            List<List<String>> dbs = rows(s, "SHOW DATABASES");
            assertEquals(1, dbs.size());
            assertEquals("prod", dbs.get(0).get(0));
            assertEquals(db.name(), dbs.get(0).get(6));
            List<List<String>> config = rows(s, "SHOW CONFIG");
            assertTrue(config.stream().anyMatch(r -> r.get(0).equals("general.port")));
            String all = config.toString();
            assertFalse(all.contains(ProxyFixture.ADMIN_PASSWORD) || all.contains(ProxyFixture.PASSWORD)
                    || all.contains(db.server().password()), "SHOW CONFIG must not show a secret: " + all);

            List<List<String>> paused = rows(s, "PAUSE prod");
            assertEquals(List.of("prod", "true", "0", "0"), paused.get(0));
            assertEquals("true", rows(s, "SHOW DATABASES").get(0).get(7));
            assertEquals("false", rows(s, "RESUME").get(0).get(1));

            SQLException unknown = assertThrows(SQLException.class, () -> s.execute("SHOW NONSENSE"));
            assertEquals("42601", unknown.getSQLState());
            SQLException badDb = assertThrows(SQLException.class, () -> s.execute("PAUSE nodb"));
            assertEquals("3D000", badDb.getSQLState());
            SQLException args = assertThrows(SQLException.class, () -> s.execute("RESHARD only_one"));
            assertEquals("42601", args.getSQLState());
            SQLException noWorker = assertThrows(SQLException.class, () -> s.execute("RESHARD prod prod_new pub"));
            assertEquals("55000", noWorker.getSQLState());
            assertTrue(noWorker.getMessage().contains("needs the workflow client"), noWorker.getMessage());
            assertEquals(1, rows(s, "SHOW CLIENTS").size());

            proxy.server().bindTaskCommands(new RecordingTasks());
            assertEquals(List.of(List.of("reshard-prod-prod_new-1 pub false false")), rows(s, "RESHARD prod \"prod_new\" pub"));
            // a string literal names the publication without its quotes; options are bare keywords, any case
            assertEquals(List.of(List.of("reshard-prod-prod_new-1 app_pub true true")),
                    rows(s, "RESHARD prod prod_new 'app_pub' manual_cutover FENCE_SOURCE"));
            assertEquals(List.of(List.of("reshard-prod-prod_new-1 it's;pub true false")),
                    rows(s, "RESHARD prod prod_new 'it''s;pub' MANUAL_CUTOVER;"));
            SQLException badOption = assertThrows(SQLException.class, () -> s.execute("RESHARD prod prod_new pub FAST"));
            assertEquals("42601", badOption.getSQLState());
            assertTrue(badOption.getMessage().contains("unknown RESHARD option 'FAST'; the options are MANUAL_CUTOVER, "
                    + "FENCE_SOURCE"), badOption.getMessage());
            assertEquals("running", rows(s, "SHOW TASKS").get(0).get(1));
            assertEquals(List.of(List.of("result", "OK", "plan of prod -> prod_new (pub)")),
                    rows(s, "RESHARD prod prod_new pub dry_run"));
            SQLException notDryRun = assertThrows(SQLException.class, () -> s.execute("RESHARD prod prod_new pub NOW"));
            assertEquals("42601", notDryRun.getSQLState());
            assertTrue(notDryRun.getMessage().contains("unknown RESHARD option 'NOW'; the options are MANUAL_CUTOVER, "
                    + "FENCE_SOURCE, DRY_RUN"), notDryRun.getMessage());

            SQLException wrong = assertThrows(SQLException.class, () -> proxy.connect("admin", ProxyFixture.ADMIN_USER,
                    "wrong", new Properties()));
            assertEquals("28P01", wrong.getSQLState());
            SQLException appUser = assertThrows(SQLException.class, () -> proxy.connect("admin", ProxyFixture.USER,
                    ProxyFixture.PASSWORD, new Properties()));
            assertEquals("28P01", appUser.getSQLState());

            Tools.Result psql = Tools.run(Map.of("PGPASSWORD", ProxyFixture.ADMIN_PASSWORD), "/usr/bin/psql", "-X", "-A", "-t",
                    "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", ProxyFixture.ADMIN_USER, "-d", "admin",
                    "-c", "SHOW DATABASES");
            assertEquals(0, psql.exitCode(), psql.output());
            assertTrue(psql.output().startsWith("prod|prod|0|0|"), psql.output());
        }
    }

    static List<List<String>> rows(Statement s, String sql) throws SQLException {
        List<List<String>> out = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    /** Stands in for the workflow client: answers RESHARD (and its DRY_RUN) and SHOW TASKS. */
    private static final class RecordingTasks implements TaskCommands {
        @Override
        public Rows reshard(String source, String destination, String publication, boolean manualCutover,
                            boolean fenceSource) {
            return Rows.single("task_id", "reshard-" + source + "-" + destination + "-1 " + publication + " "
                    + manualCutover + " " + fenceSource);
        }

        @Override
        public Rows plan(String source, String destination, String publication) {
            return new Rows(List.of("section", "item", "detail"),
                    List.of(List.of("result", "OK", "plan of " + source + " -> " + destination + " (" + publication + ")")));
        }

        @Override
        public Rows showTasks() {
            return new Rows(List.of("id", "state"), List.of(List.of("reshard-prod-prod_new-1", "running")));
        }

        @Override
        public Rows stopTask(String taskId) {
            throw new IllegalArgumentException("no task " + taskId);
        }

        @Override
        public Rows cutover(String taskId) {
            throw new IllegalStateException("nothing to cut over");
        }

        @Override
        public Rows rollback(String taskId) {
            throw new IllegalStateException("nothing to roll back");
        }

        @Override
        public Rows finalizeTask(String taskId) {
            throw new IllegalStateException("nothing to finalize");
        }

        @Override
        public Rows schemaSync(String phase, String source, String destination, String publication) {
            throw new IllegalStateException("not here");
        }

        @Override
        public Rows copyData(String source, String destination, String publication) {
            throw new IllegalStateException("not here");
        }

        @Override
        public Rows showReplication() {
            return new Rows(List.of("task"), List.of());
        }

        @Override
        public Rows showTableCopies() {
            return new Rows(List.of("table"), List.of());
        }
    }
}
