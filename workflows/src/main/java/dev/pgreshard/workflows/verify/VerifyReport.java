package dev.pgreshard.workflows.verify;

import java.util.List;

/** The result of a verification: one line per table; {@link #ok()} only when every table matches. */
public record VerifyReport(List<TableVerification> tables) {
    public boolean ok() {
        return tables.stream().allMatch(TableVerification::ok);
    }
}
