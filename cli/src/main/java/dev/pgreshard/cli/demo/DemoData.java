package dev.pgreshard.cli.demo;

import dev.pgreshard.cli.load.LoadTable;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The demo's multi-tenant application: {@code plans} (a small reference table, omnisharded: whole
 * on every shard), {@code tenants} and {@code orders} (sharded by tenant), and the live writer's
 * table (sharded by tenant too). The same shape as docker/source/init.sql of the compose stack.
 */
final class DemoData {
    static final String PUBLICATION = "demo_pub";
    static final LoadTable WRITES = LoadTable.of("public.live_writes");
    static final int TENANTS = 2_000;

    private DemoData() {
    }

    /** The tables, without secondary indexes and foreign keys (schema sync copies those after the data); idempotent. */
    static List<String> tables() {
        return List.of(
                "CREATE TABLE IF NOT EXISTS plans (code text PRIMARY KEY, name text NOT NULL, price_cents integer NOT NULL)",
                "CREATE TABLE IF NOT EXISTS tenants (id bigint PRIMARY KEY, name text NOT NULL, plan text NOT NULL, "
                        + "created_at timestamptz NOT NULL DEFAULT now())",
                "CREATE SEQUENCE IF NOT EXISTS orders_id_seq",
                "CREATE TABLE IF NOT EXISTS orders (tenant_id bigint NOT NULL, id bigint NOT NULL DEFAULT nextval('orders_id_seq'), "
                        + "amount_cents bigint NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT now(), "
                        + "PRIMARY KEY (tenant_id, id))",
                "ALTER SEQUENCE orders_id_seq OWNED BY orders.id",
                WRITES.ddl().replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS "));
    }

    /** Indexes and constraints: created on the source before the load, on the shards after the copy; idempotent. */
    static List<String> postData() {
        return List.of(
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'tenants_plan_fkey') THEN "
                        + "ALTER TABLE tenants ADD CONSTRAINT tenants_plan_fkey FOREIGN KEY (plan) REFERENCES plans (code); "
                        + "END IF; END $$",
                "CREATE INDEX IF NOT EXISTS orders_created_at ON orders (created_at)",
                // preflight asks that the replica identity cover the shard key (so a change of tenant could be
                // routed); a unique index keeps replicated updates on an index (REPLICA IDENTITY FULL would scan)
                "CREATE UNIQUE INDEX IF NOT EXISTS live_writes_identity ON live_writes (tenant_id, id)",
                "ALTER TABLE live_writes REPLICA IDENTITY USING INDEX live_writes_identity");
    }

    /** Creates and fills the source, then publishes every table. */
    static void loadSource(Connection c, long orders) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String ddl : tables()) {
                s.execute(ddl);
            }
            for (String ddl : postData()) {
                s.execute(ddl);
            }
            s.execute("INSERT INTO plans VALUES ('free', 'Free', 0), ('team', 'Team', 2900), ('business', 'Business', 9900)");
            s.execute("INSERT INTO tenants (id, name, plan) SELECT g, 'tenant ' || g, "
                    + "(ARRAY['free', 'team', 'business'])[1 + g % 3] FROM generate_series(1, " + TENANTS + ") g");
            s.execute("INSERT INTO orders (tenant_id, amount_cents, note) SELECT 1 + g % " + TENANTS
                    + ", (g * 37) % 100000, 'order ' || g || ' ' || md5(g::text) FROM generate_series(1, " + orders + ") g");
            s.execute("VACUUM ANALYZE");
            s.execute("CREATE PUBLICATION " + PUBLICATION + " FOR TABLE plans, tenants, orders, live_writes");
        }
    }

    /** Runs {@code statements} in one transaction (every one is idempotent). */
    static void apply(Connection c, List<String> statements) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try (Statement s = c.createStatement()) {
            for (String ddl : statements) {
                s.execute(ddl);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }
}
