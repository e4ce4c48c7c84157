package dev.pgreshard.proxy.sharded;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The client's transaction on a sharded database: begun by the proxy on each shard as the transaction
 * first touches it. With two-phase commit a transaction may write on several shards (it then commits
 * with 2PC); without, its writes are confined to one shard (a transaction spanning shards could not
 * commit atomically, so it is refused rather than half-committed). An implicit transaction is one the
 * proxy opened itself around a single statement that writes on several shards outside a transaction.
 */
final class TransactionState {
    boolean open;
    /** A statement failed (on a server or refused here): only ROLLBACK is meaningful now. */
    boolean failed;
    /** Opened by the proxy around one multi-shard write in autocommit; ends with that statement. */
    boolean implicit;
    String beginSql;
    /** The transaction used a temporary table (on {@link TempTables#HOME}): that shard's part cannot be PREPAREd. */
    boolean tempTouched;
    /** The first shard written on, -1 before any write. */
    int writeShard = -1;
    private final BitSet written = new BitSet();

    void begin(String sql) {
        open = true;
        failed = false;
        implicit = false;
        beginSql = sql;
        tempTouched = false;
        writeShard = -1;
        written.clear();
    }

    void beginImplicit() {
        begin("BEGIN");
        implicit = true;
    }

    void end(ShardLink[] links) {
        open = false;
        failed = false;
        implicit = false;
        tempTouched = false;
        writeShard = -1;
        written.clear();
        for (ShardLink l : links) {
            if (l != null) {
                l.inTransaction = false;
            }
        }
    }

    char status() {
        return !open || implicit ? 'I' : failed ? 'E' : 'T';
    }

    /**
     * Claims {@code shards} for this transaction's writes; returns the refusal message if that spans
     * shards and {@code twoPhase} is off.
     */
    String claimWrites(int[] shards, String cluster, boolean twoPhase) {
        if (!twoPhase) {
            int shard = writeShard;
            for (int s : shards) {
                if (shard >= 0 && s != shard) {
                    return "this transaction would write to more than one shard of '" + cluster + "' (shard " + shard
                            + " and shard " + s + "), which cannot commit atomically without two-phase commit (off: [general] "
                            + "two_phase_commit = false, or this proxy runs without the control store that records its decisions); "
                            + "keep each transaction's writes to one shard key (writes to omnisharded tables go to every shard, "
                            + "so run them outside such transactions), or enable two_phase_commit";
                }
                shard = s;
            }
        }
        for (int s : shards) {
            if (writeShard < 0) {
                writeShard = s;
            }
            written.set(s);
        }
        return null;
    }

    /**
     * Admits a statement into the open transaction (none open: always admitted): returns the refusal message
     * when it would need two-phase commit over temporary objects ({@link #tempBlocksCommit}) or would write to a
     * second shard without two-phase commit ({@link #claimWrites}); else records what it touches.
     */
    String admit(boolean usesTemp, boolean write, int[] targets, String cluster, boolean twoPhase) {
        if (!open) {
            return null;
        }
        if (tempBlocksCommit(usesTemp, write, targets, TempTables.HOME)) {
            return TempTables.conflict(cluster, usesTemp, targets);
        }
        tempTouched |= usesTemp;
        return write ? claimWrites(targets, cluster, twoPhase) : null;
    }

    /**
     * Whether a statement (using temporary tables or not, writing {@code targets} or not) would leave this transaction
     * needing two-phase commit over shard {@code home} after it touched temporary objects there — which PostgreSQL
     * refuses at PREPARE ("cannot PREPARE a transaction that has operated on temporary objects").
     */
    boolean tempBlocksCommit(boolean usesTemp, boolean write, int[] targets, int home) {
        if (!tempTouched && !usesTemp) {
            return false;
        }
        BitSet after = (BitSet) written.clone();
        if (write) {
            for (int s : targets) {
                after.set(s);
            }
        }
        return after.get(home) && after.cardinality() > 1;
    }

    /** True when the transaction wrote on more than one shard: its commit needs two-phase commit. */
    boolean multiShard() {
        return written.cardinality() > 1;
    }

    boolean wrote(int shard) {
        return written.get(shard);
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
