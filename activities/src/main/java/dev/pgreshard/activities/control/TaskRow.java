package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/** A row of {@code pgreshard_task}: one reshard task as the registry last heard of it. */
@MappedEntity("pgreshard_task")
public record TaskRow(@Id String taskId, String source, String destination, String publication, String phase,
                      String state, long lagBytes, String error, Instant createdAt, Instant updatedAt) {
}
