package dev.pgreshard.activities.preflight;

import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The plan (dry run): a schema with blockers — a primary key that does not cover the shard key, a
 * sharded table left out of the publication, a role without the privileges pgreshard needs — is
 * reported with each fix; running exactly those fixes makes the same plan pass. Nothing is changed
 * by the plan itself.
 */
@ExtendWith(PostgresExtension.class)
class PlanTest {

    @Test
    void everyBlockerHasAFixAndTheFixesMakeThePlanPass(TestDatabase src, TestDatabase d0, TestDatabase d1) {
        String role = "plan_mover_" + ThreadLocalRandom.current().nextInt(1_000_000);
        src.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'mover-pw'",
                "CREATE TABLE customers (id bigint PRIMARY KEY, name text)",
                "CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL "
                        + "REFERENCES customers (id), total numeric)",
                "CREATE TABLE line_items (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id bigint NOT NULL, "
                        + "order_id bigint REFERENCES orders (id))",
                "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint NOT NULL)",
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'",
                "CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()",
                "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 100) g",
                "INSERT INTO orders (customer_id, total) SELECT 1 + g % 100, g FROM generate_series(1, 5000) g",
                "ANALYZE",
                "CREATE PUBLICATION pub FOR TABLE customers, orders, line_items");
        String toml = Clusters.toml(List.of(src), List.of(d0, d1), Clusters.sharded("orders", "customer_id", "bigint")
                + Clusters.sharded("line_items", "customer_id", "bigint") + Clusters.sharded("invoices", "customer_id", "bigint"));
        String users = "";
        for (String cluster : List.of("src", "dst")) {
            users += "[[users]]\nname = \"app\"\ndatabase = \"" + cluster + "\"\npassword = \"app-pw\"\nserver_user = \""
                    + role + "\"\nserver_password = \"mover-pw\"\n";
        }
        PgReshardConfig config = ConfigLoader.parse("pgreshard.toml", toml, "users.toml", users);
        Preflight preflight = new Preflight(config, new PgConnector(config));
        try {
            PlanReport blocked = preflight.plan(TASK, true);
            String text = PlanText.render(blocked);
            assertTrue(blocked.blocked(), text);
            List<String> fixes = blocked.blockers().stream().map(Blocker::fix).toList();
            String all = String.join("\n", fixes);
            assertContains(all, "CREATE UNIQUE INDEX CONCURRENTLY \"orders_id_customer_id_key\" ON \"public\".\"orders\" "
                    + "(\"id\", \"customer_id\"); ALTER TABLE \"public\".\"orders\" REPLICA IDENTITY USING INDEX "
                    + "\"orders_id_customer_id_key\";");
            assertContains(all, "ALTER PUBLICATION \"pub\" ADD TABLE \"public\".\"invoices\";");
            assertContains(all, "ALTER ROLE \"" + role + "\" REPLICATION;");
            assertContains(all, "GRANT SELECT, INSERT, UPDATE, DELETE ON \"public\".\"orders\" TO \"" + role + "\";");
            assertContains(all, "GRANT SELECT, UPDATE ON SEQUENCE \"public\".\"orders_id_seq\" TO \"" + role + "\";");
            assertContains(all, "GRANT SET ON PARAMETER session_replication_role TO \"" + role + "\";");
            assertContains(all, "GRANT CREATE ON DATABASE \"" + d1.name() + "\" TO \"" + role + "\";");
            assertContains(all, "GRANT USAGE, CREATE ON SCHEMA \"public\" TO \"" + role + "\";");
            for (Blocker b : blocked.blockers()) {
                assertTrue(b.fix().endsWith(";"), "every fix here is SQL to run: " + b);
            }
            assertContains(text, "RESULT: BLOCKED");
            String check = assertThrows(NotRetryableException.class, () -> preflight.check(TASK)).getMessage();
            assertContains(check, "preflight failed: ");
            assertContains(check, "REPLICA IDENTITY USING INDEX \"orders_id_customer_id_key\"");

            // the report itself: tables, schema sync, sequences, the foreign key that cannot hold, the estimate
            assertContains(text, "customer_id (bigint)");
            assertContains(text, "primary key [id]");
            assertContains(text, "omnisharded");
            assertContains(text, "created by schema sync on every shard");
            assertContains(text, "triggers [orders_touch] are NOT created");
            assertContains(text, "public.orders_id_seq (serial of public.orders.id): not used yet (or not readable");
            assertContains(text, "foreign key line_items_order_id_fkey of public.line_items → public.orders: it does not "
                    + "map public.line_items.customer_id onto public.orders.customer_id");
            assertContains(text, "foreign keys that hold on shards (after the copy): orders_customer_id_fkey "
                    + "(public.orders → public.customers)"); // customers is omnisharded: on every shard
            assertFalse(blocked.copyEstimate().isEmpty(), text);

            // nothing changed by the plan
            assertEquals(0, src.queryLong("SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
            assertEquals(0, d0.queryLong("SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
                    + "'information_schema')"));

            // run exactly the printed fixes, each on the server its problem names, as a superuser
            for (Blocker b : blocked.blockers()) {
                TestDatabase on = b.problem().contains("destination dst shard 1") ? d1
                        : b.problem().contains("destination dst shard 0") ? d0 : src;
                for (String statement : statements(b.fix())) {
                    on.execute(statement);
                }
            }
            PlanReport fixed = preflight.plan(TASK, true);
            assertFalse(fixed.blocked(), PlanText.render(fixed));
            assertContains(PlanText.render(fixed), "RESULT: OK");
            String after = PlanText.render(fixed);
            assertContains(after, "index orders_id_customer_id_key [id, customer_id]");
            assertTrue(fixed.copyEstimate().startsWith("about "), after);
            assertContains(after, "sampled 5,000 rows of public.orders");
            assertContains(after, "public.orders_id_seq (serial of public.orders.id): at 5000 on the source");
            assertContains(after, "public.line_items_id_seq (identity of public.line_items.id): not used yet");
            assertEquals(4, preflight.check(TASK).tables().size());
        } finally {
            for (TestDatabase db : List.of(src, d0, d1)) {
                db.execute("DROP OWNED BY " + role);
            }
            src.execute("DROP ROLE " + role);
        }
    }

    /** The statements of a fix, one by one (CREATE INDEX CONCURRENTLY may not share a query string). */
    private static List<String> statements(String fix) {
        List<String> out = new ArrayList<>();
        for (String s : fix.split("(?<=;)\\s+")) {
            if (!s.isBlank()) {
                out.add(s);
            }
        }
        return out;
    }

    private static void assertContains(String text, String expected) {
        assertTrue(text.contains(expected), "expected «" + expected + "» in:\n" + text);
    }
}
