package dev.pgreshard.activities.support;

import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Heartbeats an activity once a second from a side thread while a blocking step runs (pg_dump,
 * CREATE INDEX, a long query): the heartbeat timeout then measures "is the worker alive", not "is
 * this statement quick", so a killed worker is still noticed within seconds.
 */
public final class HeartbeatTicker {
    private HeartbeatTicker() {
    }

    /**
     * Like {@link #during}, for code that also runs outside an activity (tests, the CLI): there it
     * just runs. A cutover needs this: without liveness heartbeats while it connects, pauses and
     * creates slots, the server can time out a live attempt and start a second one beside it.
     */
    public static <T> T whileRunning(Supplier<T> work) {
        try {
            Activity.getExecutionContext();
        } catch (IllegalStateException | NullPointerException notInActivity) {
            return work.get();
        }
        return during(work);
    }

    public static <T> T during(Supplier<T> work) {
        ActivityExecutionContext ctx = Activity.getExecutionContext();
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "heartbeat-" + ctx.getInfo().getActivityType());
            t.setDaemon(true);
            return t;
        });
        ticker.scheduleAtFixedRate(() -> {
            try {
                ctx.heartbeat(null);
            } catch (RuntimeException cancelledOrGone) {
                // cancellation reaches the step through its own connection's close; nothing to do here
            }
        }, 0, 1, TimeUnit.SECONDS);
        try {
            return work.get();
        } finally {
            ticker.shutdownNow();
        }
    }
}
