package dev.pgreshard.activities.control;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/**
 * A row of {@code pgreshard_task}: one reshard task as the registry last heard of it.
 *
 * @param failing         the activity failing and being retried now ("activity subject: error"), empty if none
 * @param failingAttempts its failed attempts so far
 * @param failingSince    when it started failing (null if nothing fails)
 */
@MappedEntity("pgreshard_task")
public record TaskRow(@Id String taskId, String source, String destination, String publication, String phase,
                      String state, long lagBytes, String error, Instant createdAt, Instant updatedAt,
                      String failingKey, String failing, int failingAttempts, @Nullable Instant failingSince) {
}
