package dev.pgreshard.activities.support;

import io.temporal.activity.ActivityExecutionContext;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptor;
import io.temporal.common.interceptors.ActivityInboundCallsInterceptorBase;
import io.temporal.common.interceptors.WorkerInterceptorBase;
import io.temporal.common.interceptors.WorkflowInboundCallsInterceptor;
import io.temporal.common.interceptors.WorkflowInboundCallsInterceptorBase;
import io.temporal.workflow.Workflow;
import org.slf4j.MDC;

import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Puts the task id (the workflow id, {@code reshard-<src>-<dst>-<seq>}) into the SLF4J MDC under
 * {@value #KEY} for every activity and workflow execution of the worker, so that each log line says
 * which task it belongs to (logback pattern {@code %X{task}}). Threads an activity starts (copy
 * ranges, replication streams) inherit it through {@link #propagating}.
 */
public final class TaskLogContext extends WorkerInterceptorBase {
    public static final String KEY = "task";

    @Override
    public ActivityInboundCallsInterceptor interceptActivity(ActivityInboundCallsInterceptor next) {
        return new ActivityInboundCallsInterceptorBase(next) {
            private String task;

            @Override
            public void init(ActivityExecutionContext context) {
                task = context.getInfo().getWorkflowId();
                super.init(context);
            }

            @Override
            public ActivityOutput execute(ActivityInput input) {
                String previous = MDC.get(KEY);
                MDC.put(KEY, task);
                try {
                    return super.execute(input);
                } finally {
                    restore(previous);
                }
            }
        };
    }

    @Override
    public WorkflowInboundCallsInterceptor interceptWorkflow(WorkflowInboundCallsInterceptor next) {
        return new WorkflowInboundCallsInterceptorBase(next) {
            @Override
            public WorkflowOutput execute(WorkflowInput input) {
                MDC.put(KEY, Workflow.getInfo().getWorkflowId());
                try {
                    return super.execute(input);
                } finally {
                    MDC.remove(KEY);
                }
            }
        };
    }

    private static void restore(String previous) {
        if (previous == null) {
            MDC.remove(KEY);
        } else {
            MDC.put(KEY, previous);
        }
    }

    /** Wraps {@code work} to run with the calling thread's MDC (take it on the thread that logs for a task). */
    public static Runnable propagating(Runnable work) {
        Map<String, String> context = MDC.getCopyOfContextMap();
        if (context == null) {
            return work;
        }
        return () -> {
            MDC.setContextMap(context);
            try {
                work.run();
            } finally {
                MDC.clear();
            }
        };
    }

    /** Daemon threads named {@code prefix-N} that carry the MDC of the thread creating the factory. */
    public static ThreadFactory daemonThreads(String prefix, AtomicInteger counter) {
        Map<String, String> context = MDC.getCopyOfContextMap();
        return r -> {
            Runnable work = context == null ? r : () -> {
                MDC.setContextMap(context);
                r.run();
            };
            Thread t = new Thread(work, prefix + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
