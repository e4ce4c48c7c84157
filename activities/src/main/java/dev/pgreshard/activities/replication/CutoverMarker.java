package dev.pgreshard.activities.replication;

/**
 * The transactional logical message a cutover writes on every read shard of a stream while clients
 * are paused ({@code pg_logical_emit_message(true, PREFIX, task id)}). The stream applies nothing for
 * it, but commits the batch holding it at once, so the cutover sees it applied within a commit.
 */
public final class CutoverMarker {
    public static final String PREFIX = "pgreshard.cutover";

    private CutoverMarker() {
    }
}
