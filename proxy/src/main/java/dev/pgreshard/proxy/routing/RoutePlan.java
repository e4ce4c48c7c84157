package dev.pgreshard.proxy.routing;

import dev.pgreshard.core.sharding.ShardFunction;
import dev.pgreshard.core.sharding.ShardKeyParseException;
import dev.pgreshard.proxy.protocol.SqlState;

import java.util.List;
import java.util.TreeSet;

/**
 * How one statement text routes on one cluster, worked out once by {@link ShardRouter#plan} so that
 * repeated executions skip the walk over the parsed statement: a fixed decision, or the shards of the
 * shard-key values it names (literals, or bind parameters read per execution).
 */
public sealed interface RoutePlan {
    Decision route(BindValues params);

    /** Routing that no bind value changes. */
    record Fixed(Decision decision) implements RoutePlan {
        @Override
        public Decision route(BindValues params) {
            return decision;
        }
    }

    /**
     * A statement pinned to the shards of its key values; {@code errorPrefix} names the key for a
     * value that is not of the key's type.
     */
    record Keyed(StatementKind kind, boolean write, ShardFunction function, List<KeyRef> keys, String errorPrefix)
            implements RoutePlan {
        public Keyed {
            keys = List.copyOf(keys);
        }

        @Override
        public Decision route(BindValues params) {
            try {
                if (keys.size() == 1) {
                    return Decision.to(kind, new int[] {ShardRouter.shardOf(function, keys.get(0), params)}, write, true);
                }
                TreeSet<Integer> shards = new TreeSet<>();
                for (KeyRef k : keys) {
                    shards.add(ShardRouter.shardOf(function, k, params));
                }
                return Decision.to(kind, shards.stream().mapToInt(Integer::intValue).toArray(), write, true);
            } catch (ShardKeyParseException | IndexOutOfBoundsException e) {
                return Decision.refuse(kind, SqlState.INVALID_PARAMETER_VALUE, errorPrefix + ": " + e.getMessage());
            }
        }
    }
}
