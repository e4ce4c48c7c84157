-- pgreshard control store, version 2: what the cutover needs.

-- Every running proxy registers here and heartbeats; a cutover pauses every live one.
CREATE TABLE pgreshard_proxy (
    control_url  text PRIMARY KEY,          -- where the cutover reaches its HTTP control API
    host_name    text NOT NULL,
    process_id   bigint NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- The routing epochs: which cluster serves a client-facing database, from which epoch on. Proxies
-- load it at start and on every heartbeat, so a proxy that missed a swap catches up.
CREATE TABLE pgreshard_route (
    database_name text PRIMARY KEY,
    cluster       text NOT NULL,
    epoch         bigint NOT NULL,
    task_id       text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The audit of every cutover and rollback attempt.
CREATE TABLE pgreshard_cutover (
    id         bigserial PRIMARY KEY,
    task_id    text NOT NULL,
    kind       text NOT NULL,
    swapped    boolean NOT NULL,
    pause_ms   bigint NOT NULL,
    lag_bytes  bigint NOT NULL,
    epoch      bigint NOT NULL,
    reason     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pgreshard_cutover_task ON pgreshard_cutover (task_id);
