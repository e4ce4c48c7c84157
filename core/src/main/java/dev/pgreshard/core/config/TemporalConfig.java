package dev.pgreshard.core.config;

/**
 * {@code [temporal]} of pgreshard.toml.
 *
 * @param target       {@code "embedded"} (the Temporal Java test server, in memory) or {@code host:port}
 * @param embeddedPort port the embedded server listens on when {@code target = "embedded"}
 * @param namespace    Temporal namespace
 * @param taskQueue    task queue of the worker
 * @param heartbeatTimeoutSeconds a long activity silent this long is retried on another worker: the time a
 *                     killed worker costs before its copy or replication resumes elsewhere
 * @param copySlots    copy activities (tables or ranges) this worker runs at once, on the copy task queue
 *                     {@link #copyTaskQueue()}; 0 = the number of cores of the worker's machine. Other
 *                     workers take the rest, so adding a worker adds copy capacity
 */
public record TemporalConfig(String target, Integer embeddedPort, String namespace, String taskQueue,
                             Integer heartbeatTimeoutSeconds, Integer copySlots) {

    public static final String EMBEDDED = "embedded";
    public static final TemporalConfig DEFAULTS = new TemporalConfig(null, null, null, null, null, null);

    public TemporalConfig {
        target = target == null ? EMBEDDED : target;
        embeddedPort = embeddedPort == null ? 7233 : embeddedPort;
        namespace = namespace == null ? "default" : namespace;
        taskQueue = taskQueue == null ? "pgreshard" : taskQueue;
        heartbeatTimeoutSeconds = heartbeatTimeoutSeconds == null ? 30 : heartbeatTimeoutSeconds;
        copySlots = copySlots == null ? 0 : copySlots;
    }

    /** The queue of copy activities: every worker serves it with at most {@link #effectiveCopySlots()} at once. */
    public String copyTaskQueue() {
        return taskQueue + "-copy";
    }

    /** {@code copy_slots}, 0 resolved to this machine's cores. */
    public int effectiveCopySlots() {
        return copySlots > 0 ? copySlots : Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    public boolean isEmbedded() {
        return EMBEDDED.equals(target);
    }

    /** The gRPC address a client dials: the embedded server on loopback, or {@link #target()}. */
    public String address() {
        return isEmbedded() ? "127.0.0.1:" + embeddedPort : target;
    }
}
