-- pgreshard control store, version 1: the task registry behind `pgreshard tasks` and SHOW TASKS.
CREATE SEQUENCE pgreshard_task_seq;

CREATE TABLE pgreshard_task (
    task_id     text PRIMARY KEY,
    source      text NOT NULL,
    destination text NOT NULL,
    publication text NOT NULL,
    phase       text NOT NULL,
    state       text NOT NULL,
    lag_bytes   bigint NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX pgreshard_task_pair ON pgreshard_task (source, destination);
