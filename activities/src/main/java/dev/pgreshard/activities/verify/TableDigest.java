package dev.pgreshard.activities.verify;

import java.math.BigDecimal;

/** Row count and order-independent checksum of a set of rows. Sums, so digests of disjoint sets add up. */
record TableDigest(long rows, BigDecimal checksum) {
    static final TableDigest EMPTY = new TableDigest(0, BigDecimal.ZERO);

    TableDigest plus(TableDigest other) {
        return new TableDigest(rows + other.rows, checksum.add(other.checksum));
    }
}
