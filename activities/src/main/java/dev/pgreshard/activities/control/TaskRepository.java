package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;

import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** The task registry (Micronaut Data JDBC; queries generated at compile time). */
@JdbcRepository(dialect = Dialect.POSTGRES)
public interface TaskRepository extends GenericRepository<TaskRow, String> {

    Optional<TaskRow> findById(String taskId);

    List<TaskRow> findAllOrderByCreatedAt();

    List<TaskRow> findBySourceAndDestinationAndPhaseNotInList(String source, String destination,
                                                             Collection<String> phases);

    /** The next task number, for ids {@code reshard-<src>-<dst>-<seq>}. */
    @Query("SELECT nextval('pgreshard_task_seq')")
    long nextSequence();

    /**
     * Insert or update by task id; created_at is kept from the first write. A row registered for
     * another pair is never overwritten (a workflow id reused from outside cannot take over a row).
     */
    @Query("""
            INSERT INTO pgreshard_task (task_id, source, destination, publication, phase, state, lag_bytes, error)
            VALUES (:taskId, :source, :destination, :publication, :phase, :state, :lagBytes, :error)
            ON CONFLICT (task_id) DO UPDATE SET phase = EXCLUDED.phase, state = EXCLUDED.state,
                lag_bytes = EXCLUDED.lag_bytes, error = EXCLUDED.error, updated_at = now()
            WHERE pgreshard_task.source = EXCLUDED.source AND pgreshard_task.destination = EXCLUDED.destination""")
    void upsert(String taskId, String source, String destination, String publication, String phase, String state,
                long lagBytes, String error);

    /** An activity of the task failed an attempt and will be retried (since is kept while the same activity fails). */
    @Query("""
            UPDATE pgreshard_task SET failing_since = CASE WHEN failing_key = :key THEN failing_since ELSE now() END,
                failing_key = :key, failing = :failing, failing_attempts = :attempts, updated_at = now()
            WHERE task_id = :taskId""")
    void failing(String taskId, String key, String failing, int attempts);

    /** The activity of {@code key} works again (or was given up on): nothing is failing any more. */
    @Query("""
            UPDATE pgreshard_task SET failing_key = '', failing = '', failing_attempts = 0, failing_since = NULL,
                updated_at = now()
            WHERE task_id = :taskId AND failing_key = :key""")
    void recovered(String taskId, String key);
    /** Registers a task that just started; returns 0 and changes nothing when the id is registered already. */
    @Query("""
            INSERT INTO pgreshard_task (task_id, source, destination, publication, phase, state)
            VALUES (:taskId, :source, :destination, :publication, 'PREFLIGHT', 'RUNNING')
            ON CONFLICT (task_id) DO NOTHING""")
    int insertIfAbsent(String taskId, String source, String destination, String publication);

    /** Keeps the lag column fresh between the workflow's own writes (SHOW TASKS, `tasks`). */
    @Query("UPDATE pgreshard_task SET lag_bytes = :lagBytes, updated_at = now() WHERE task_id = :taskId")
    int updateLag(String taskId, long lagBytes);
}
