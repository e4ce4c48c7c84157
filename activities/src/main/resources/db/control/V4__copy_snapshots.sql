-- pgreshard control store, version 4 (issue 21): snapshots held for split table copies.
-- A holder activity exports a snapshot of one source shard and publishes it here; the range
-- activities of the table, on any worker, import it. The holder deletes its row when it ends.
CREATE TABLE pgreshard_copy_snapshot (
    hold_key    text PRIMARY KEY,           -- task/table/source shard/generation
    task_id     text NOT NULL,
    snapshot_id text NOT NULL,              -- for SET TRANSACTION SNAPSHOT
    lsn         text NOT NULL,              -- the slot's consistent point
    worker      text NOT NULL,              -- identity of the worker holding it
    created_at  timestamptz NOT NULL DEFAULT now()
);
