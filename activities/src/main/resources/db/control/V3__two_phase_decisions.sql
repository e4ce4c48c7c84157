-- pgreshard control store, version 3: the commit decisions of two-phase commits.

-- One row per multi-shard transaction whose outcome was decided: 'commit' by the proxy that
-- coordinated it (after every shard prepared), or 'abort' by prepared-transaction recovery (before it
-- rolls back a transaction nobody decided). The first row written wins; a commit decision is removed
-- once every shard committed, an abort decision some minutes after every shard rolled back.
CREATE TABLE pgreshard_decision (
    gid          text PRIMARY KEY,           -- pgreshard_<proxy id>_<sequence>; each shard's gid adds _<shard>
    decision     text NOT NULL CHECK (decision IN ('commit', 'abort')),
    participants text NOT NULL,              -- the shards, for operators
    decided_by   text NOT NULL,              -- the proxy id, or 'recovery'
    decided_at   timestamptz NOT NULL DEFAULT now()
);
