package dev.pgreshard.activities.schema;

import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.activities.support.Clusters;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.PgConnector;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import dev.pgreshard.workflows.schema.SchemaSyncResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static dev.pgreshard.activities.support.Clusters.TASK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pg_dump-based schema sync: exact names, types and sequences pulled in, idempotent, FKs only where co-located. */
@ExtendWith(PostgresExtension.class)
class SchemaSyncTest {
    private static final String SOURCE = """
            CREATE SCHEMA "Shop";
            CREATE TYPE "Shop".state AS ENUM ('open', 'closed');
            CREATE DOMAIN "Shop".email AS text DEFAULT 'nobody@' || 'example.org' CHECK (VALUE LIKE '%@%');
            CREATE SEQUENCE "Shop".global_ids START 1000;
            CREATE TABLE "Shop"."Customers" (id bigint PRIMARY KEY, mail "Shop".email, st "Shop".state[]);
            CREATE TABLE "Shop".orders (id bigint DEFAULT nextval('"Shop".global_ids'), "Customers_id" bigint,
                country text, PRIMARY KEY ("Customers_id", id));
            CREATE TABLE "Shop".countries (code text PRIMARY KEY);
            CREATE TABLE "Shop".audit (id bigserial PRIMARY KEY, customer bigint, country text);
            -- a table whose name a pg_dump pattern would widen: it must not be pulled in
            CREATE TABLE "Shop"."ordersX" (id bigint);
            CREATE TABLE "Shop".unpublished (code text PRIMARY KEY);
            -- co-located: sharded child → sharded parent on the shard keys; sharded → omnisharded
            ALTER TABLE "Shop".orders ADD CONSTRAINT orders_customer FOREIGN KEY ("Customers_id") REFERENCES "Shop"."Customers" (id);
            ALTER TABLE "Shop".orders ADD CONSTRAINT orders_country FOREIGN KEY (country) REFERENCES "Shop".countries (code);
            -- not co-located: omnisharded → sharded, and a reference outside the publication
            ALTER TABLE "Shop".audit ADD CONSTRAINT audit_customer FOREIGN KEY (customer) REFERENCES "Shop"."Customers" (id);
            ALTER TABLE "Shop".audit ADD CONSTRAINT audit_country FOREIGN KEY (country) REFERENCES "Shop".unpublished (code);
            CREATE INDEX orders_country_idx ON "Shop".orders (country);
            CREATE FUNCTION "Shop".touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
            CREATE TRIGGER orders_touch BEFORE UPDATE ON "Shop".orders FOR EACH ROW EXECUTE FUNCTION "Shop".touch();
            CREATE PUBLICATION pub FOR TABLE "Shop"."Customers", "Shop".orders, "Shop".countries, "Shop".audit;
            """;

    @Test
    void preAndPostAreIdempotentAndSkipForeignKeysThatCannotHold(TestDatabase src, TestDatabase dst0, TestDatabase dst1) throws Exception {
        src.execute(SOURCE);
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1),
                Clusters.sharded("Shop.Customers", "id", "bigint") + Clusters.sharded("Shop.orders", "Customers_id", "bigint"));
        SchemaSync sync = new SchemaSync(config, new PgConnector(config));

        SchemaPlan dryRun = sync.plan(TASK, SchemaPhase.PRE);
        assertTrue(dryRun.script().contains("CREATE TYPE \"Shop\".\"state\" AS ENUM ('open', 'closed');"), dryRun.script());
        assertTrue(dryRun.script().contains("CREATE DOMAIN \"Shop\".\"email\" AS text DEFAULT ('nobody@'::text || "
                + "'example.org'::text) CONSTRAINT \"email_check\" CHECK ((VALUE ~~ '%@%'::text));"), dryRun.script());
        assertTrue(dryRun.script().contains("CREATE TABLE \"Shop\".\"Customers\""), dryRun.script());
        assertFalse(dryRun.script().contains("ordersX"), "pattern matched only the exact name");
        assertEquals(0, dst0.queryLong("SELECT count(*) FROM pg_namespace WHERE nspname = 'Shop'"), "a plan changes nothing");

        SchemaSyncResult pre = sync.run(TASK, SchemaPhase.PRE);
        assertTrue(pre.statementsApplied() > 5, pre.toString());
        SchemaSyncResult post = sync.run(TASK, SchemaPhase.POST);
        assertTrue(post.statementsApplied() > 3, post.toString());
        assertEquals(0, sync.run(TASK, SchemaPhase.PRE).statementsApplied(), "re-run of pre applies nothing");
        assertEquals(0, sync.run(TASK, SchemaPhase.POST).statementsApplied(), "re-run of post applies nothing");

        for (TestDatabase d : List.of(dst0, dst1)) {
            assertEquals(List.of(List.of("Customers"), List.of("audit"), List.of("countries"), List.of("orders")),
                    d.queryRows("SELECT relname FROM pg_class WHERE relnamespace = '\"Shop\"'::regnamespace "
                            + "AND relkind = 'r' ORDER BY 1"));
            assertEquals(List.of(List.of("1000")), d.queryRows("SELECT nextval('\"Shop\".global_ids')"),
                    "the sequence a default uses came along");
            d.execute("INSERT INTO \"Shop\".\"Customers\" VALUES (1, 'a@b', '{open}')");
            assertEquals(List.of(List.of("orders_country"), List.of("orders_customer")),
                    d.queryRows("SELECT conname FROM pg_constraint WHERE contype = 'f' ORDER BY 1"),
                    "only co-located foreign keys");
            assertEquals(1, d.queryLong("SELECT count(*) FROM pg_indexes WHERE indexname = 'orders_country_idx'"));
            assertEquals(0, d.queryLong("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"), "no user triggers");
        }
        String warnings = String.join("\n", post.warnings());
        assertTrue(warnings.contains("foreign key audit_customer of Shop.audit → Shop.Customers skipped on 'dst': "
                + "Shop.audit is omnisharded but Shop.Customers is sharded"), warnings);
        assertTrue(warnings.contains("foreign key audit_country of Shop.audit → Shop.unpublished skipped on 'dst': "
                + "Shop.unpublished is not in the publication"), warnings);
        assertTrue(warnings.contains("trigger orders orders_touch in schema Shop not created"), warnings);
    }

    @Test
    void aStatementTheDestinationRejectsChangesNothingOnThatShard(TestDatabase src, TestDatabase dst) throws Exception {
        src.execute("CREATE TABLE a (id bigint PRIMARY KEY)", "CREATE TABLE b (id bigint PRIMARY KEY)",
                "CREATE PUBLICATION pub FOR TABLE a, b");
        dst.execute("CREATE VIEW b AS SELECT 1 AS id"); // b exists as a view: CREATE TABLE a runs, then b is seen as present
        dst.execute("CREATE TABLE a_conflict ()", "CREATE INDEX a_pkey ON a_conflict ((1))");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst), "");
        SchemaSync sync = new SchemaSync(config, new PgConnector(config));
        sync.run(TASK, SchemaPhase.PRE);
        NotRetryableException e = assertThrows(NotRetryableException.class, () -> sync.run(TASK, SchemaPhase.POST));
        assertTrue(e.getMessage().startsWith("schema sync on destination dst shard 0 ("), e.getMessage());
        assertTrue(e.getMessage().contains("failed at CONSTRAINT public.a a_pkey"), e.getMessage());
        assertTrue(e.getMessage().contains("nothing was changed on that shard"), e.getMessage());
        assertEquals(0, dst.queryLong("SELECT count(*) FROM pg_constraint WHERE conrelid = 'a'::regclass"));
    }

    /**
     * Issue 18: the proxy logs each client in as itself, so a role that is not the owner must find on the
     * shards the GRANTs it had on the source: a read-only role reads and is refused a write
     * with the source's SQLSTATE, a writer writes (through its sequence), current_user is itself.
     */
    @Test
    void ownersAndGrantsComeAlong(TestDatabase src, TestDatabase dst0, TestDatabase dst1) throws Exception {
        String owner = src.name() + "_owner";
        String reader = src.name() + "_reader";
        String writer = src.name() + "_writer";
        for (String role : List.of(owner, reader, writer)) { // roles are the server's: the shards' server has them
            src.execute("DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN CREATE ROLE "
                    + role + "; END IF; END$$");
        }
        src.execute("CREATE SCHEMA app AUTHORIZATION " + owner,
                "CREATE TABLE app.items (id bigserial PRIMARY KEY, name text)",
                "ALTER TABLE app.items OWNER TO " + owner,
                "GRANT USAGE ON SCHEMA app TO " + reader + ", " + writer,
                "GRANT SELECT ON app.items TO " + reader,
                "GRANT SELECT, INSERT, UPDATE, DELETE ON app.items TO " + writer,
                "GRANT USAGE ON SEQUENCE app.items_id_seq TO " + writer,
                "CREATE PUBLICATION pub FOR TABLE app.items");
        PgReshardConfig config = Clusters.config(List.of(src), List.of(dst0, dst1), Clusters.sharded("app.items", "id", "bigint"));
        SchemaSync sync = new SchemaSync(config, new PgConnector(config));
        sync.run(TASK, SchemaPhase.PRE);
        sync.run(TASK, SchemaPhase.POST);

        String refusedOnSource = refusedWrite(src, reader);
        for (TestDatabase d : List.of(dst0, dst1)) {
            try (Connection c = d.connect(); Statement s = c.createStatement()) {
                s.execute("SET ROLE " + reader);
                try (ResultSet rs = s.executeQuery("SELECT current_user, count(*) FROM app.items GROUP BY 1 UNION ALL "
                        + "SELECT current_user, 0 WHERE NOT EXISTS (SELECT 1 FROM app.items)")) {
                    assertTrue(rs.next());
                    assertEquals(reader, rs.getString(1));
                }
                s.execute("SET ROLE " + writer);
                s.execute("INSERT INTO app.items (name) VALUES ('written by the writer')");
                // the worker's login owns the shard's tables; the source's owner gets ALL on them
                s.execute("SET ROLE " + owner);
                s.execute("UPDATE app.items SET name = 'updated by the owner'");
            }
            assertEquals(refusedOnSource, refusedWrite(d, reader), "the read-only role's write on " + d.name());
        }
    }

    /** SQLSTATE and message of an INSERT the role may not do. */
    private static String refusedWrite(TestDatabase db, String role) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("SET ROLE " + role);
            SQLException e = assertThrows(SQLException.class, () -> s.execute("INSERT INTO app.items (name) VALUES ('x')"));
            return e.getSQLState() + " " + e.getMessage();
        }
    }
}
