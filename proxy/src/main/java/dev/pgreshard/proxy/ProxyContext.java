package dev.pgreshard.proxy;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.proxy.admin.TaskCommands;
import dev.pgreshard.proxy.auth.UserDirectory;
import dev.pgreshard.proxy.pause.PauseGate;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.SqlAnalyzer;
import dev.pgreshard.proxy.session.QueryHandlerFactory;
import dev.pgreshard.proxy.session.SessionRegistry;
import io.netty.handler.ssl.SslContext;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicReference;

/** Everything the sessions of one proxy share. Thread-safe. */
public final class ProxyContext {
    private final PgReshardConfig config;
    private final ProxyOptions options;
    private final Topology topology;
    private final UserDirectory users;
    private final RoutingTable routing;
    private final PauseGate gate = new PauseGate();
    private final SessionRegistry sessions = new SessionRegistry();
    private final SqlAnalyzer analyzer = new SqlAnalyzer();
    private final SecureRandom random = new SecureRandom();
    private final ProxyMetrics metrics = new ProxyMetrics();
    private final SslContext sslContext;
    private final AtomicReference<TaskCommands> taskCommands = new AtomicReference<>();
    private final QueryHandlerFactory handlers;

    public ProxyContext(PgReshardConfig config, ProxyOptions options, SslContext sslContext, QueryHandlerFactory handlers) {
        this.config = config;
        this.options = options;
        this.topology = Topology.of(config);
        this.users = new UserDirectory(config, random);
        this.routing = new RoutingTable(config, topology);
        this.sslContext = sslContext;
        this.handlers = handlers;
    }

    /** Makes the sessions' query handlers (the admin database, pass-through, sharded). */
    public QueryHandlerFactory handlers() {
        return handlers;
    }

    public PgReshardConfig config() {
        return config;
    }

    public ProxyOptions options() {
        return options;
    }

    public Topology topology() {
        return topology;
    }

    public UserDirectory users() {
        return users;
    }

    public RoutingTable routing() {
        return routing;
    }

    public PauseGate gate() {
        return gate;
    }

    public SessionRegistry sessions() {
        return sessions;
    }

    public SqlAnalyzer analyzer() {
        return analyzer;
    }

    public ProxyMetrics metrics() {
        return metrics;
    }

    public SecureRandom random() {
        return random;
    }

    /** Null when no [general] tls_certificate is configured. */
    public SslContext sslContext() {
        return sslContext;
    }

    public String adminDatabase() {
        return config.admin() == null ? null : config.admin().name();
    }

    public TaskCommands taskCommands() {
        return taskCommands.get();
    }

    public void bindTaskCommands(TaskCommands commands) {
        taskCommands.set(commands);
    }
}
