package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/** A row of {@code pgreshard_decision}: the outcome of one two-phase commit ('commit' or 'abort'). */
@MappedEntity("pgreshard_decision")
public record DecisionRow(@Id String gid, String decision, String participants, String decidedBy, Instant decidedAt) {
}
