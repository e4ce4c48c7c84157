package dev.pgreshard.workflows.reshard;

/** What a task is doing within its phase. */
public enum TaskState {
    /** working through the phase */
    RUNNING,
    /** replicating and waiting for the `cutover` signal (manual cutover) */
    WAITING_FOR_CUTOVER,
    /** traffic is on the destination; waiting for `finalize` or `rollback` */
    WAITING_FOR_FINALIZE,
    /** finished: traffic stays on the destination */
    FINALIZED,
    /** finished: traffic went back to the source */
    ROLLED_BACK,
    /** stopped by the operator; what the task created was dropped */
    STOPPED,
    /** failed; what the task created was dropped; the error says why */
    FAILED
}
