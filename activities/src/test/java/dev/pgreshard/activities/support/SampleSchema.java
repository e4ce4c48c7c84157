package dev.pgreshard.activities.support;

import dev.pgreshard.testkit.TestDatabase;

/**
 * A schema with every column type users have: numeric, multi-byte text, bytea, jsonb, arrays,
 * timestamptz, NULLs, TOASTed values of several MB, generated and identity/serial columns, enum
 * and domain types, composite primary keys, a schema other than public and quoted mixed-case names.
 */
public final class SampleSchema {
    /** Sharded by "TenantId" (bigint); has enum[] and domain[][] columns, whose binary form carries type OIDs. */
    public static final String ITEMS = "Sales.Order Items";
    /** Sharded by account (uuid), REPLICA IDENTITY FULL, serial id. */
    public static final String EVENTS = "public.events";
    /** Omnisharded. */
    public static final String COUNTRIES = "public.countries";

    public static final String SHARDING = Clusters.sharded(ITEMS, "TenantId", "bigint")
            + Clusters.sharded(EVENTS, "account", "uuid");
    /** For a source of several shards: the same two tables are sharded there (countries is a copy on each). */
    public static final String SOURCE_SHARDING = Clusters.shardedIn("src", ITEMS, "TenantId", "bigint")
            + Clusters.shardedIn("src", EVENTS, "account", "uuid");

    private SampleSchema() {
    }

    public static void create(TestDatabase db) {
        db.execute("""
                CREATE SCHEMA "Sales";
                CREATE TYPE "Sales".mood AS ENUM ('sad', 'ok', 'happy');
                CREATE DOMAIN "Sales".posint AS integer CHECK (VALUE > 0);
                CREATE TABLE "Sales"."Order Items" (
                    "TenantId" bigint NOT NULL,
                    id bigint GENERATED ALWAYS AS IDENTITY,
                    amount numeric(20, 6),
                    note text,
                    payload bytea,
                    doc jsonb,
                    tags text[],
                    at timestamptz,
                    mood "Sales".mood,
                    qty "Sales".posint,
                    moods "Sales".mood[],
                    sizes "Sales".posint[][],
                    doubled numeric GENERATED ALWAYS AS (amount * 2) STORED,
                    PRIMARY KEY ("TenantId", id));
                CREATE INDEX items_at ON "Sales"."Order Items" (at);
                CREATE TABLE public.events (id serial PRIMARY KEY, account uuid NOT NULL, body text, n int);
                ALTER TABLE public.events REPLICA IDENTITY FULL;
                CREATE TABLE public.countries (code text PRIMARY KEY, name text NOT NULL);
                CREATE PUBLICATION pub FOR TABLE "Sales"."Order Items", public.events, public.countries;
                """);
    }

    /** {@code rows} item rows with keys offset by {@code base} (distinct per source shard), a few huge. */
    public static void load(TestDatabase db, int base, int rows) {
        db.execute("""
                INSERT INTO "Sales"."Order Items" ("TenantId", amount, note, payload, doc, tags, at, mood, qty, moods, sizes)
                SELECT BASE + g % 97,
                       CASE WHEN g % 7 = 0 THEN NULL ELSE g * 1.000001 END,
                       CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g || ' héllo wörld 日本語 😀' END,
                       CASE WHEN g % 3 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,
                       jsonb_build_object('g', g, 'nested', jsonb_build_array(g, 'x', null)),
                       ARRAY['a' || g, NULL, 'ü'],
                       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute',
                       (ARRAY['sad', 'ok', 'happy'])[1 + g % 3]::"Sales".mood,
                       1 + g % 10,
                       CASE WHEN g % 11 = 0 THEN NULL ELSE ARRAY['happy', NULL, 'sad']::"Sales".mood[] END,
                       ARRAY[[1 + g % 5, 2], [3, 4]]::"Sales".posint[][]
                FROM generate_series(BASE + 1, BASE + ROWS) g
                """.replace("BASE", Integer.toString(base)).replace("ROWS", Integer.toString(rows)),
                // TOASTed values of several MB (incompressible-ish md5 text)
                """
                INSERT INTO "Sales"."Order Items" ("TenantId", note, payload)
                SELECT BASE + k, (SELECT string_agg(md5(k::text || g::text), '') FROM generate_series(1, 100000) g),
                       decode((SELECT string_agg(md5(g::text || k::text), '') FROM generate_series(1, 60000) g), 'hex')
                FROM generate_series(1, 3) k
                """.replace("BASE", Integer.toString(base)),
                "SELECT setval(pg_get_serial_sequence('public.events', 'id'), " + (base + 1) + ", false)",
                """
                INSERT INTO public.events (account, body, n)
                SELECT md5((BASE + g)::text)::uuid, repeat('é', g % 50), CASE WHEN g % 4 = 0 THEN NULL ELSE g END
                FROM generate_series(1, ROWS) g
                """.replace("BASE", Integer.toString(base)).replace("ROWS", Integer.toString(rows)));
    }

    public static void countries(TestDatabase db) {
        db.execute("INSERT INTO public.countries VALUES ('de', 'Deutschland'), ('jp', '日本'), ('fr', 'France')");
    }
}
