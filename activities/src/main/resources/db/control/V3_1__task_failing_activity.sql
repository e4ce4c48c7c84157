-- pgreshard control store, version 3.1: the activity of a task that is failing and being retried
-- (written by the worker's ActivityProblems, shown by SHOW TASKS and `pgreshard status`).
ALTER TABLE pgreshard_task
    ADD COLUMN failing_key      text NOT NULL DEFAULT '',
    ADD COLUMN failing          text NOT NULL DEFAULT '',
    ADD COLUMN failing_attempts integer NOT NULL DEFAULT 0,
    ADD COLUMN failing_since    timestamptz;
