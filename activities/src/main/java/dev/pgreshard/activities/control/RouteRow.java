package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/** A row of {@code pgreshard_route}: client database {@code databaseName} is served by {@code cluster} from {@code epoch} on. */
@MappedEntity("pgreshard_route")
public record RouteRow(@Id String databaseName, String cluster, long epoch, String taskId, Instant updatedAt) {
}
