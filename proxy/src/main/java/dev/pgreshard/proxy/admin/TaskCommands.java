package dev.pgreshard.proxy.admin;

import java.util.List;

/**
 * The admin database's task commands (docs/architecture.md §4), implemented by the workflow client outside
 * the proxy module and bound with {@code ProxyServer.bindTaskCommands}. Each returns the rows to show
 * (first the column names, then values as text) or throws {@link IllegalArgumentException} /
 * {@link IllegalStateException} with a message fit for the operator.
 */
public interface TaskCommands {
    /** A result set: column names and rows of text values. */
    record Rows(List<String> columns, List<List<String>> rows) {
        public static Rows single(String column, String value) {
            return new Rows(List.of(column), List.of(List.of(value)));
        }
    }

    /**
     * {@code RESHARD src dst pub [MANUAL_CUTOVER] [FENCE_SOURCE]}: starts the workflow; one row with
     * the task id. The options not named take the worker's configuration.
     */
    Rows reshard(String source, String destination, String publication, boolean manualCutover, boolean fenceSource);

    /**
     * {@code RESHARD src dst pub DRY_RUN}: every preflight check, changing nothing; rows
     * (section, item, detail) and a last row {@code result | OK|BLOCKED}.
     */
    Rows plan(String source, String destination, String publication);

    /** {@code SHOW TASKS}: id, source, destination, phase, state, started, lag, and the activity failing now (error, attempts, since). */
    Rows showTasks();

    /** {@code STOP_TASK id}. */
    Rows stopTask(String taskId);

    /** {@code CUTOVER [id]} (null: the only task waiting for a manual cutover). */
    Rows cutover(String taskId);

    /** {@code ROLLBACK id}. */
    Rows rollback(String taskId);

    /** {@code FINALIZE id}. */
    Rows finalizeTask(String taskId);

    /** {@code SCHEMA_SYNC pre|post src dst pub}. */
    Rows schemaSync(String phase, String source, String destination, String publication);

    /** {@code COPY_DATA src dst pub}. */
    Rows copyData(String source, String destination, String publication);

    /** {@code SHOW REPLICATION}: per task and direction, lag in bytes and seconds. */
    Rows showReplication();

    /** {@code SHOW TABLE_COPIES}: per table copy progress. */
    Rows showTableCopies();
}
