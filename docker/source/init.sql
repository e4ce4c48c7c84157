-- Sample multi-tenant application database of the compose stack's source server (runs once, at the
-- first start of an empty data directory). `tenants` and `orders` are sharded by tenant in
-- docker/pgreshard.toml; `plans` is a small reference table, copied whole to every shard
-- (omnisharded). The publication names what RESHARD moves.
CREATE TABLE plans (
    code  text PRIMARY KEY,
    name  text NOT NULL,
    price_cents integer NOT NULL
);

CREATE TABLE tenants (
    id         bigint PRIMARY KEY,
    name       text NOT NULL,
    plan       text NOT NULL REFERENCES plans (code),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
    tenant_id   bigint NOT NULL,
    id          bigint NOT NULL,
    amount_cents bigint NOT NULL,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE SEQUENCE orders_id_seq OWNED BY orders.id;
ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq');
CREATE INDEX orders_created_at ON orders (created_at);

INSERT INTO plans VALUES ('free', 'Free', 0), ('team', 'Team', 2900), ('business', 'Business', 9900);

INSERT INTO tenants (id, name, plan)
SELECT g, 'tenant ' || g, (ARRAY['free', 'team', 'business'])[1 + g % 3]
FROM generate_series(1, 1000) g;

INSERT INTO orders (tenant_id, amount_cents, note)
SELECT 1 + g % 1000, (g * 37) % 100000, 'order ' || g
FROM generate_series(1, 200000) g;

CREATE PUBLICATION pub FOR TABLE plans, tenants, orders;
