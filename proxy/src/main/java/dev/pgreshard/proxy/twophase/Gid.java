package dev.pgreshard.proxy.twophase;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The identifier of one of our prepared transactions on one shard:
 * {@code pgreshard_<proxyId>_<seq>_<shard>}. The transaction ({@link #transaction()}, the key of its
 * decision) is {@code pgreshard_<proxyId>_<seq>}; the shard suffix keeps the identifiers of one
 * transaction distinct when several shards are databases of one PostgreSQL server (gids are
 * server-wide). Anything not matching is not ours and is never touched.
 */
public record Gid(String proxyId, long seq, int shard) {
    public static final String PREFIX = "pgreshard_";
    private static final Pattern FORMAT = Pattern.compile("pgreshard_([a-z0-9]+)_(\\d+)_(\\d+)");

    public Gid {
        if (!proxyId.matches("[a-z0-9]+")) {
            throw new IllegalArgumentException("proxy id must be lower-case letters and digits: " + proxyId);
        }
    }

    public static Optional<Gid> parse(String gid) {
        Matcher m = FORMAT.matcher(gid);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(new Gid(m.group(1), Long.parseLong(m.group(2)), Integer.parseInt(m.group(3))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The key of the whole transaction's decision. */
    public String transaction() {
        return PREFIX + proxyId + "_" + seq;
    }

    @Override
    public String toString() {
        return transaction() + "_" + shard;
    }

    /** The gid as an SQL string literal (it has no quotes by construction). */
    public String literal() {
        return "'" + this + "'";
    }
}
