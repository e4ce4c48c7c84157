package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;

import java.time.Instant;

/** A row of {@code pgreshard_proxy}: a running proxy and when it last said so. */
@MappedEntity("pgreshard_proxy")
public record ProxyRow(@Id String controlUrl, String hostName, long processId, Instant startedAt, Instant heartbeatAt) {
}
