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
 */
public record TemporalConfig(String target, Integer embeddedPort, String namespace, String taskQueue,
                             Integer heartbeatTimeoutSeconds) {

    public static final String EMBEDDED = "embedded";
    public static final TemporalConfig DEFAULTS = new TemporalConfig(null, null, null, null, null);

    public TemporalConfig {
        target = target == null ? EMBEDDED : target;
        embeddedPort = embeddedPort == null ? 7233 : embeddedPort;
        namespace = namespace == null ? "default" : namespace;
        taskQueue = taskQueue == null ? "pgreshard" : taskQueue;
        heartbeatTimeoutSeconds = heartbeatTimeoutSeconds == null ? 30 : heartbeatTimeoutSeconds;
    }

    public boolean isEmbedded() {
        return EMBEDDED.equals(target);
    }

    /** The gRPC address a client dials: the embedded server on loopback, or {@link #target()}. */
    public String address() {
        return isEmbedded() ? "127.0.0.1:" + embeddedPort : target;
    }
}
