package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;
import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;

import java.time.Instant;
import java.util.List;

/** The audit of cutover and rollback attempts ({@code pgreshard_cutover}). */
@JdbcRepository(dialect = Dialect.POSTGRES)
public interface CutoverAuditRepository extends GenericRepository<CutoverAuditRepository.CutoverRow, Long> {

    /** One attempt. */
    @MappedEntity("pgreshard_cutover")
    record CutoverRow(@Id Long id, String taskId, String kind, boolean swapped, long pauseMs, long lagBytes, long epoch,
                      String reason, Instant createdAt) {
    }

    @Query("""
            INSERT INTO pgreshard_cutover (task_id, kind, swapped, pause_ms, lag_bytes, epoch, reason)
            VALUES (:taskId, :kind, :swapped, :pauseMs, :lagBytes, :epoch, :reason)""")
    void record(String taskId, String kind, boolean swapped, long pauseMs, long lagBytes, long epoch, String reason);

    List<CutoverRow> findByTaskIdOrderById(String taskId);
}
