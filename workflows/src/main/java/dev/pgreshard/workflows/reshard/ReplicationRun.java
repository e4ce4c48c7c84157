package dev.pgreshard.workflows.reshard;

import dev.pgreshard.workflows.replication.ReplicationActivities;
import dev.pgreshard.workflows.replication.ReplicationRequest;
import io.temporal.failure.ActivityFailure;
import io.temporal.failure.CanceledFailure;
import io.temporal.workflow.Async;
import io.temporal.workflow.CancellationScope;
import io.temporal.workflow.CompletablePromise;
import io.temporal.workflow.Promise;
import io.temporal.workflow.Workflow;

/**
 * A running {@code replicate} activity in its own cancellation scope, so the workflow can stop one
 * stream (forward, at cutover) without cancelling anything else. The activity's options use
 * WAIT_CANCELLATION_COMPLETED, so {@link #stop()} returns only once the applier has really stopped:
 * forward and reverse replication never run at the same time.
 */
final class ReplicationRun {
    private final CancellationScope scope;
    private final CompletablePromise<Void> done;

    private ReplicationRun(CancellationScope scope, CompletablePromise<Void> done) {
        this.scope = scope;
        this.done = done;
    }

    static ReplicationRun start(ReplicationActivities replication, ReplicationRequest request) {
        CompletablePromise<Void> done = Workflow.newPromise();
        CancellationScope scope = Workflow.newCancellationScope(
                () -> done.completeFrom(Async.procedure(replication::replicate, request)));
        scope.run();
        return new ReplicationRun(scope, done);
    }

    Promise<Void> done() {
        return done;
    }

    /** True when the stream ended by itself: {@link #rethrowIfEnded()} then says why. */
    boolean hasEnded() {
        return done.isCompleted();
    }

    /** Throws the stream's failure; a stream that returned without being stopped is a failure too. */
    void rethrowIfEnded() {
        if (done.isCompleted()) {
            done.get();
            throw new IllegalStateException("replication stream ended without being stopped");
        }
    }

    void stop() {
        scope.cancel("stream no longer needed");
        try {
            done.get();
        } catch (CanceledFailure expected) {
            // stopped as asked
        } catch (ActivityFailure f) {
            if (!(f.getCause() instanceof CanceledFailure)) {
                throw f;
            }
        }
    }
}
