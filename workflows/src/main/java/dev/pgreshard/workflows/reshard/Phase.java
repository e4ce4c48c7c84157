package dev.pgreshard.workflows.reshard;

/** Where a reshard task is, as `pgreshard status` prints it ({@code phase: <PHASE>}). */
public enum Phase {
    PREFLIGHT,
    SCHEMA_PRE,
    COPY,
    SCHEMA_POST,
    REPLICATING,
    CUTOVER,
    REVERSE_REPLICATING,
    DONE,
    STOPPED,
    FAILED;

    public boolean isFinal() {
        return this == DONE || this == STOPPED || this == FAILED;
    }
}
