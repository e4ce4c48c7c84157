package dev.pgreshard.cli.task;

import dev.pgreshard.workflows.reshard.Phase;

/** Why `stop` / STOP_TASK is refused after the cutover, and the two ways out. */
final class StopRefusal {
    private StopRefusal() {
    }

    static String message(String taskId, Phase phase, String source, String destination) {
        if (phase == Phase.CUTOVER) {
            return "task " + taskId + " is cutting over now; stop is refused while traffic moves. Wait for the attempt "
                    + "to end (`pgreshard status " + taskId + "`): if it swapped, use rollback or finalize; if not, stop";
        }
        return "task " + taskId + " is past its cutover: traffic is on '" + destination + "'. stop is refused, because "
                + "dropping reverse replication now would leave no way back. The two ways out: `pgreshard rollback "
                + taskId + "` (admin: ROLLBACK " + taskId + ") returns traffic to '" + source + "' and ends the task; "
                + "`pgreshard finalize " + taskId + "` (admin: FINALIZE " + taskId + ") keeps it on '" + destination
                + "' and ends reverse replication";
    }
}
