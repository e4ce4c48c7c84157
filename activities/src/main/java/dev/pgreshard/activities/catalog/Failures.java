package dev.pgreshard.activities.catalog;

import dev.pgreshard.core.config.ConfigException;
import io.temporal.failure.ApplicationFailure;

import java.sql.SQLException;
import java.util.concurrent.Callable;

/**
 * How activities report failures to Temporal: problems an operator must fix (config, catalog,
 * {@link NotRetryableException}) become non-retryable ApplicationFailures with the same one-line
 * message; anything else (a dropped connection, a server restart) is retried by the activity's
 * retry policy.
 */
public final class Failures {
    public static final String NOT_RETRYABLE = "NotRetryable";

    private Failures() {
    }

    public static <T> T translate(Callable<T> body) {
        try {
            return body.call();
        } catch (NotRetryableException | ConfigException e) {
            throw ApplicationFailure.newNonRetryableFailureWithCause(e.getMessage(), NOT_RETRYABLE, null);
        } catch (SQLException e) {
            throw ApplicationFailure.newFailureWithCause(e.getMessage(), "SQLException", e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw ApplicationFailure.newFailureWithCause(String.valueOf(e.getMessage()), e.getClass().getSimpleName(), e);
        }
    }
}
