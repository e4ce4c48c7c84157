package dev.pgreshard.proxy.routing;

import java.util.Map;

/**
 * Where one client statement goes.
 *
 * @param kind      the statement's kind (transaction control and session commands are the handler's business)
 * @param shards    target shard indexes, ascending (empty for control statements and errors)
 * @param anyShard  any one shard will do (reads of omnisharded tables, SHOW); {@code shards} holds a default
 * @param write     the statement changes data (counts against the one-shard-per-transaction rule)
 * @param sumCounts merge CommandComplete counts by summing (sharded data); false: take the first shard's
 *                  answer (omnisharded writes, whose every shard holds the same rows)
 * @param rewritten per-shard SQL for a multi-row INSERT split by shard (simple protocol), or null
 * @param sqlState  set when the statement is refused, with {@code error} saying why and what to do
 */
public record Decision(StatementKind kind, int[] shards, boolean anyShard, boolean write, boolean sumCounts,
                       Map<Integer, String> rewritten, String sqlState, String error) {

    public boolean refused() {
        return sqlState != null;
    }

    static Decision refuse(StatementKind kind, String sqlState, String error) {
        return new Decision(kind, new int[0], false, false, false, null, sqlState, error);
    }

    static Decision control(StatementKind kind) {
        return new Decision(kind, new int[0], false, false, false, null, null, null);
    }

    static Decision any(StatementKind kind) {
        return new Decision(kind, new int[] {0}, true, false, false, null, null, null);
    }

    static Decision to(StatementKind kind, int[] shards, boolean write, boolean sumCounts) {
        return new Decision(kind, shards, false, write, sumCounts, null, null, null);
    }

    static Decision split(Map<Integer, String> rewritten) {
        int[] shards = rewritten.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Decision(StatementKind.WRITE, shards, false, true, true, rewritten, null, null);
    }

    public static int[] all(int shardCount) {
        int[] s = new int[shardCount];
        for (int i = 0; i < shardCount; i++) {
            s[i] = i;
        }
        return s;
    }
}
