package dev.pgreshard.proxy.sharded;

import java.util.ArrayList;
import java.util.List;

/**
 * The client's explicit transaction on a sharded database: begun by the proxy on each shard as the
 * transaction first touches it, with writes confined to one shard (a transaction spanning shards
 * could not commit atomically, so it is refused rather than half-committed).
 */
final class TransactionState {
    boolean open;
    /** A statement failed (on a server or refused here): only ROLLBACK is meaningful now. */
    boolean failed;
    String beginSql;
    int writeShard = -1;

    void begin(String sql) {
        open = true;
        failed = false;
        beginSql = sql;
        writeShard = -1;
    }

    void end(ShardLink[] links) {
        open = false;
        failed = false;
        writeShard = -1;
        for (ShardLink l : links) {
            if (l != null) {
                l.inTransaction = false;
            }
        }
    }

    char status() {
        return !open ? 'I' : failed ? 'E' : 'T';
    }

    /** Claims {@code shards} for this transaction's writes; returns the refusal message if that spans shards. */
    String claimWrites(int[] shards, String cluster) {
        int shard = writeShard;
        for (int s : shards) {
            if (shard >= 0 && s != shard) {
                return "this transaction would write to more than one shard of '" + cluster + "' (shard " + shard
                        + " and shard " + s + "), which cannot commit atomically; keep each transaction's writes to one "
                        + "shard key (writes to omnisharded tables go to every shard, so run them outside such transactions)";
            }
            shard = s;
        }
        writeShard = shard;
        return null;
    }

    int[] shardsInTransaction(ShardLink[] links) {
        List<Integer> in = new ArrayList<>();
        for (ShardLink l : links) {
            if (l != null && l.inTransaction) {
                in.add(l.shard);
            }
        }
        return in.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The shard for statements any shard can answer: this transaction's shard if it has one, else 0. */
    int defaultShard(ShardLink[] links) {
        if (writeShard >= 0) {
            return writeShard;
        }
        if (open) {
            for (ShardLink l : links) {
                if (l != null && l.inTransaction) {
                    return l.shard;
                }
            }
        }
        return 0;
    }
}
