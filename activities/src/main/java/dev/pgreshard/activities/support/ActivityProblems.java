package dev.pgreshard.activities.support;

import dev.pgreshard.activities.control.TaskRepository;
import dev.pgreshard.workflows.reshard.ActivityFailureReport;
import dev.pgreshard.workflows.reshard.ReshardWorkflow;
import io.temporal.activity.Activity;
import io.temporal.activity.ActivityExecutionContext;
import io.temporal.activity.ActivityInfo;
import io.temporal.client.ActivityCompletionException;
import io.temporal.common.RetryOptions;
import io.temporal.failure.ApplicationFailure;
import io.temporal.failure.CanceledFailure;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The one way a failing activity becomes visible: every failed attempt of a reshard task's activity
 * (its last error, what it failed on, attempts, since when) goes at once to
 * <ul>
 * <li>the workflow, as the {@code activityFailing} signal: its `status` query lists it;</li>
 * <li>the control store's task row: SHOW TASKS and `pgreshard status` without a worker show it;</li>
 * <li>the gauge {@code pgreshard_activity_failing_attempts{task,activity}} (and the counter
 * {@code pgreshard_activity_failures_total}).</li>
 * </ul>
 * When the activity succeeds after failing (or, for a stream that runs for ever, once it works
 * again: {@link #recovered()}), the same three are cleared. Activities are wrapped once where the
 * worker registers them ({@link #reporting}); nothing here may fail an activity itself.
 */
public final class ActivityProblems {
    private static final Logger log = LoggerFactory.getLogger(ActivityProblems.class);
    private static volatile TaskRepository registry;
    /** Keys reported failing from this JVM and not yet cleared. */
    private static final Set<String> FAILING = ConcurrentHashMap.newKeySet();

    private ActivityProblems() {
    }

    /** The control store's task registry to write failures into (the worker's). */
    public static void install(TaskRepository tasks) {
        registry = tasks;
    }

    /** {@code impl} behind a proxy of {@code iface} that reports each failed attempt and each recovery. */
    @SuppressWarnings("unchecked")
    public static <T> T reporting(Class<T> iface, T impl) {
        InvocationHandler handler = (proxy, method, args) -> {
            if (method.getDeclaringClass() == Object.class) {
                return method.invoke(impl, args);
            }
            try {
                Object result = method.invoke(impl, args);
                recovered();
                return result;
            } catch (InvocationTargetException e) {
                failed(e.getCause());
                throw e.getCause();
            }
        };
        return (T) Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[]{iface}, handler);
    }

    /**
     * Called by the running activity when it works again after a failed attempt (a replication
     * stream that has run cleanly for a while); a no-op on a first attempt or when nothing was reported.
     */
    public static void recovered() {
        try {
            ActivityInfo info = Activity.getExecutionContext().getInfo();
            String key = key(info);
            if (!FAILING.remove(key) && info.getAttempt() <= 1) {
                return; // nothing failed before (a retry after a failure on another worker still clears it)
            }
            WorkerMetrics.activityRecovered(info.getWorkflowId(), info.getActivityType());
            TaskRepository tasks = registry;
            if (tasks != null) {
                tasks.recovered(info.getWorkflowId(), key);
            }
            signal(Activity.getExecutionContext(), "activityRecovered", key);
        } catch (RuntimeException e) {
            log.warn("could not report an activity's recovery: {}", e.toString());
        }
    }

    /**
     * Called by a running activity that cannot make progress and keeps waiting (a cutover whose
     * stream does not apply its marker): listed like a failure until the activity ends.
     */
    public static void waiting(String subject, String why) {
        ActivityExecutionContext context;
        try {
            context = Activity.getExecutionContext();
        } catch (RuntimeException notInActivity) {
            return; // called directly (tests, the CLI)
        }
        try {
            report(context, subject, "waiting: " + why, true);
        } catch (RuntimeException e) {
            log.warn("could not report a waiting activity: {}", e.toString());
        }
    }

    private static void failed(Throwable error) {
        if (error instanceof ActivityCompletionException || error instanceof CanceledFailure) {
            return; // cancelled (a stop, a stream no longer needed): not a failure
        }
        try {
            ActivityExecutionContext context = Activity.getExecutionContext();
            ActivityInfo info = context.getInfo();
            String subject = subject(error);
            String message = message(error);
            boolean willRetry = willRetry(info, error);
            log.warn("{} of {} failed (attempt {}{}){}: {}", info.getActivityType(), info.getWorkflowId(),
                    info.getAttempt(), willRetry ? ", will retry" : ", not retried", subject.isEmpty() ? "" : " on " + subject,
                    message);
            report(context, subject, message, willRetry);
        } catch (RuntimeException e) {
            log.warn("could not report an activity's failure ({}): {}", error, e.toString());
        }
    }

    private static void report(ActivityExecutionContext context, String subject, String message, boolean willRetry) {
        ActivityInfo info = context.getInfo();
        String key = key(info);
        TaskRepository tasks = registry;
        if (willRetry) {
            FAILING.add(key);
            WorkerMetrics.activityFailing(info.getWorkflowId(), info.getActivityType(), info.getAttempt());
            if (tasks != null) {
                tasks.failing(info.getWorkflowId(), key, info.getActivityType() + (subject.isEmpty() ? "" : " " + subject)
                        + ": " + message, info.getAttempt());
            }
        } else {
            // Temporal gives up: the workflow handles the failure itself (its error, warnings or attempts say it)
            FAILING.remove(key);
            WorkerMetrics.activityRecovered(info.getWorkflowId(), info.getActivityType());
            if (tasks != null) {
                tasks.recovered(info.getWorkflowId(), key);
            }
        }
        signal(context, "activityFailing", new ActivityFailureReport(key, info.getActivityType(), subject, message,
                info.getAttempt(), willRetry));
    }

    private static void signal(ActivityExecutionContext context, String signal, Object payload) {
        ActivityInfo info = context.getInfo();
        if (!ReshardWorkflow.TYPE.equals(info.getWorkflowType())) {
            return;
        }
        context.getWorkflowClient().newUntypedWorkflowStub(info.getWorkflowId()).signal(signal, payload);
    }

    /** The activity across its retries. */
    private static String key(ActivityInfo info) {
        return info.getWorkflowId() + "/" + info.getActivityType() + "/" + info.getActivityId();
    }

    static boolean willRetry(ActivityInfo info, Throwable error) {
        if (error instanceof ApplicationFailure af && af.isNonRetryable()) {
            return false;
        }
        RetryOptions retry = info.getRetryOptions();
        if (retry == null) {
            return true;
        }
        if (retry.getMaximumAttempts() > 0 && info.getAttempt() >= retry.getMaximumAttempts()) {
            return false;
        }
        String type = error instanceof ApplicationFailure af ? af.getType() : error.getClass().getName();
        return retry.getDoNotRetry() == null || !java.util.Arrays.asList(retry.getDoNotRetry()).contains(type);
    }

    /** What the failure names itself ({@link FailureSubject}) anywhere in its cause chain; empty if nothing does. */
    static String subject(Throwable error) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof FailureSubject s) {
                return s.subject();
            }
        }
        return "";
    }

    /** An ApplicationFailure's own text (Temporal's wrapper adds its type and flags). */
    static String message(Throwable error) {
        String m = error instanceof ApplicationFailure af ? af.getOriginalMessage() : error.getMessage();
        return m == null ? error.getClass().getSimpleName() : m;
    }
}
