package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;

import java.util.List;
import java.util.Optional;

/** The routing epochs: the commit point of a cutover or rollback is the row written here. */
@JdbcRepository(dialect = Dialect.POSTGRES)
public interface RouteRepository extends GenericRepository<RouteRow, String> {

    Optional<RouteRow> findById(String databaseName);

    List<RouteRow> findAllOrderByDatabaseName();

    /**
     * Installs {@code cluster} for the database under {@code epoch} only if that epoch is newer than
     * the stored one; returns 1 when installed, 0 when a newer (or equal) epoch is already there.
     */
    @Query("""
            INSERT INTO pgreshard_route (database_name, cluster, epoch, task_id) VALUES (:databaseName, :cluster, :epoch, :taskId)
            ON CONFLICT (database_name) DO UPDATE SET cluster = EXCLUDED.cluster, epoch = EXCLUDED.epoch,
                task_id = EXCLUDED.task_id, updated_at = now()
            WHERE pgreshard_route.epoch < EXCLUDED.epoch""")
    int install(String databaseName, String cluster, long epoch, String taskId);
}
