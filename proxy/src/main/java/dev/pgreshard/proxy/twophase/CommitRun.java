package dev.pgreshard.proxy.twophase;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.ServerMessages;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.twophase.TwoPhaseCoordinator.Participant;
import dev.pgreshard.proxy.twophase.TwoPhaseCoordinator.Result;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One two-phase commit, step by step on the session's event loop (the decision is recorded on the
 * coordinator's threads and the result handed back to the loop):
 * <ol>
 * <li>PREPARE TRANSACTION on every participant, all sent at once;</li>
 * <li>any refusal: ROLLBACK PREPARED on those that prepared, the first shard error to the client;</li>
 * <li>else record COMMIT. If recovery recorded ABORT first (this commit took longer than recovery's
 * minimum age), roll back; if the control store cannot be reached, the outcome is unknown: leave the
 * prepared transactions to recovery and tell the client so (08007);</li>
 * <li>COMMIT PREPARED everywhere; a shard that fails now is committed by recovery later.</li>
 * </ol>
 */
final class CommitRun {
    private static final Logger LOG = LoggerFactory.getLogger(CommitRun.class);

    private final TwoPhaseCoordinator coordinator;
    private final long n;
    private final List<Participant> participants;
    private final String description;
    private final Executor loop;
    private final Consumer<Result> done;
    private final List<Participant> prepared = new ArrayList<>();
    private PgFrame firstError;
    private int pending;
    private boolean allCommitted = true;

    CommitRun(TwoPhaseCoordinator coordinator, long n, List<Participant> participants,
              String description, Executor loop, Consumer<Result> done) {
        this.coordinator = coordinator;
        this.n = n;
        this.participants = List.copyOf(participants);
        this.description = description;
        this.loop = loop;
        this.done = done;
    }

    private Gid gid(Participant p) {
        return coordinator.gid(n, p.shard());
    }

    private String transaction() {
        return coordinator.gid(n, 0).transaction();
    }

    void prepare() {
        pending = participants.size();
        for (Participant p : participants) {
            p.run("PREPARE TRANSACTION " + gid(p).literal(), error -> onPrepared(p, error));
        }
    }

    private void onPrepared(Participant p, PgFrame error) {
        if (error == null) {
            prepared.add(p);
        } else if (firstError == null) {
            firstError = error;
        } else {
            error.release();
        }
        if (--pending > 0) {
            return;
        }
        if (firstError != null) {
            LOG.debug("2PC {}: PREPARE refused ({}), rolling back", transaction(), ServerMessages.describeError(firstError));
            rollBackPrepared(new Result(false, firstError, null, null));
            return;
        }
        FaultHook.at(FaultHook.AFTER_PREPARE, transaction());
        coordinator.decide(new DecisionLog.Request(transaction(), DecisionLog.Outcome.COMMIT, description, coordinator.proxyId()),
                new GroupCommit.Callback() {
                    @Override
                    public void decided(DecisionLog.Outcome stored) {
                        FaultHook.delay(FaultHook.DELAY_AFTER_DECISION, transaction());
                        loop.execute(() -> onDecided(stored));
                    }

                    @Override
                    public void failed(RuntimeException e) {
                        notRecorded(e);
                    }
                });
    }

    /** On the group-commit thread: the control store could not be written; the outcome is unknown. */
    private void notRecorded(RuntimeException e) {
        LOG.warn("2PC {}: cannot record the commit decision ({}); prepared on {}, left to recovery", transaction(),
                e.getMessage(), description);
        loop.execute(() -> done.accept(new Result(false, null, SqlState.TRANSACTION_RESOLUTION_UNKNOWN, "could not record the commit decision of "
                + "transaction " + transaction() + " in the control store (" + e.getMessage() + "); it is prepared on "
                + description + " and prepared-transaction recovery will commit it if the decision was recorded, "
                + "or roll it back if not (SHOW PREPARED in the admin database shows it until then)")));
    }

    private void onDecided(DecisionLog.Outcome outcome) {
        if (outcome == DecisionLog.Outcome.ABORT) {
            rollBackPrepared(new Result(false, null, SqlState.SERIALIZATION_FAILURE, "transaction " + transaction() + " was rolled back by "
                    + "prepared-transaction recovery before its commit could be recorded (the commit took longer than "
                    + "recovery's minimum age); nothing was committed, retry the transaction"));
            return;
        }
        List<Participant> order = prepared;
        if (FaultHook.armed(FaultHook.AFTER_FIRST_COMMIT)) {
            Participant first = order.get(0);
            first.run("COMMIT PREPARED " + gid(first).literal(),
                    error -> FaultHook.at(FaultHook.AFTER_FIRST_COMMIT, transaction()));
            return;
        }
        pending = order.size();
        for (Participant p : order) {
            p.run("COMMIT PREPARED " + gid(p).literal(), error -> onCommitted(p, error));
        }
    }

    private void onCommitted(Participant p, PgFrame error) {
        if (error != null) {
            allCommitted = false;
            LOG.warn("2PC {}: COMMIT PREPARED on shard {} failed ({}); the decision is recorded, recovery commits it",
                    transaction(), p.shard(), ServerMessages.describeError(error));
            error.release();
        }
        if (--pending > 0) {
            return;
        }
        if (allCommitted) {
            coordinator.forgetLater(transaction());
        }
        done.accept(Result.ok());
    }

    private void rollBackPrepared(Result result) {
        if (prepared.isEmpty()) {
            done.accept(result);
            return;
        }
        pending = prepared.size();
        for (Participant p : prepared) {
            p.run("ROLLBACK PREPARED " + gid(p).literal(), error -> {
                if (error != null) {
                    // no decision was recorded: recovery rolls it back
                    LOG.warn("2PC {}: ROLLBACK PREPARED on shard {} failed ({}); recovery will roll it back", transaction(),
                            p.shard(), ServerMessages.describeError(error));
                    error.release();
                }
                if (--pending == 0) {
                    done.accept(result);
                }
            });
        }
    }
}
