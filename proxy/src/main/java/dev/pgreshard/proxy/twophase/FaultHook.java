package dev.pgreshard.proxy.twophase;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Test-only crash points of a two-phase commit, chosen with {@code -Dpgreshard.test.twophase.halt=<point>}:
 * the proxy halts there like a SIGKILL (no shutdown hooks), so crash tests can stop it exactly between
 * two steps of the protocol. Unset in production: {@link #at} is then a no-op.
 */
final class FaultHook {
    /** After every shard answered PREPARE, before the decision is recorded. */
    static final String AFTER_PREPARE = "after-prepare";
    /** After the commit decision is recorded, once the first shard committed and before the others did. */
    static final String AFTER_FIRST_COMMIT = "after-first-commit";

    /** After the commit decision is recorded, a pause of {@link #DELAY_MS} before COMMIT PREPARED (a shard can be restarted meanwhile). */
    static final String DELAY_AFTER_DECISION = "delay-after-decision";
    static final long DELAY_MS = 8000;

    private static final Logger LOG = LoggerFactory.getLogger(FaultHook.class);
    private static final String POINT = System.getProperty("pgreshard.test.twophase.halt", "");

    private FaultHook() {
    }

    static boolean armed(String point) {
        return POINT.equals(point);
    }

    /** Sleeps {@link #DELAY_MS} when {@code point} is armed (call off the event loop). */
    static void delay(String point, String gid) {
        if (armed(point)) {
            LOG.error("test fault hook: pausing {} ms at {} of {}", DELAY_MS, point, gid);
            try {
                Thread.sleep(DELAY_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    static void at(String point, String gid) {
        if (armed(point)) {
            LOG.error("test fault hook: halting the proxy at {} of {}", point, gid);
            Runtime.getRuntime().halt(137);
        }
    }
}
