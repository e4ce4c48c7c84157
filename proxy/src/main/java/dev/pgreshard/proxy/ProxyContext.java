package dev.pgreshard.proxy;

import dev.pgreshard.proxy.backend.IdleServerConnections;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.proxy.admin.TaskCommands;
import dev.pgreshard.proxy.auth.UserDirectory;
import dev.pgreshard.proxy.pause.PauseGate;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.SqlAnalyzer;
import dev.pgreshard.proxy.session.QueryHandlerFactory;
import dev.pgreshard.proxy.session.SessionRegistry;
import io.netty.buffer.ByteBufAllocator;
import dev.pgreshard.proxy.twophase.DecisionLog;
import dev.pgreshard.proxy.twophase.PreparedRecovery;
import dev.pgreshard.proxy.twophase.TwoPhaseCoordinator;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

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
    private final TwoPhaseCoordinator twoPhase;
    private final PreparedRecovery recovery;
    private final QueryHandlerFactory handlers;
    private final IdleServerConnections idleServers;

    public ProxyContext(PgReshardConfig config, ProxyOptions options, SslContext sslContext, QueryHandlerFactory handlers) {
        this.config = config;
        this.options = options;
        this.topology = Topology.of(config);
        this.users = new UserDirectory(config, random);
        this.routing = new RoutingTable(config, topology);
        this.sslContext = sslContext;
        this.twoPhase = new TwoPhaseCoordinator(random);
        this.recovery = new PreparedRecovery(config, twoPhase::decisions, PreparedRecovery.MIN_AGE, left -> metrics.preparedInDoubt(
                left.size(), Math.round(left.stream().mapToDouble(PreparedRecovery.InDoubt::ageSeconds).max().orElse(0))));
        this.handlers = handlers;
        this.idleServers = new IdleServerConnections(options.serverIdleTimeoutMs());
    }

    /** Server connections of ended sessions, kept for the next session of the same login. */
    public IdleServerConnections idleServers() {
        return idleServers;
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

    /** PostgreSQL writes TLS records of at most its 8 KiB send buffer; libpq's reads are sized for that. */
    public static final int TLS_RECORD_PLAINTEXT = 8192;

    /**
     * A TLS handler for one client that writes records like PostgreSQL's: at most 8 KiB of plaintext
     * each (Netty would write 16 KiB). libpq reads into a buffer that keeps only 8 KiB free; a larger
     * record leaves decrypted bytes inside OpenSSL that no socket readiness announces, and a client
     * that waits for the socket in non-blocking mode (node's pg-native) then waits for ever.
     */
    public SslHandler newTlsHandler(ByteBufAllocator alloc) {
        SslHandler h = sslContext.newHandler(alloc);
        h.setWrapDataSize(TLS_RECORD_PLAINTEXT);
        return h;
    }

    public String adminDatabase() {
        return config.admin() == null ? null : config.admin().name();
    }

    /** The two-phase commit coordinator; {@link TwoPhaseCoordinator#ready()} once a decision log is bound. */
    public TwoPhaseCoordinator twoPhase() {
        return twoPhase;
    }

    public PreparedRecovery recovery() {
        return recovery;
    }

    /** Multi-shard transactions commit with 2PC: configured so, and a decision log is bound. */
    public boolean twoPhaseCommit() {
        return config.general().twoPhaseCommit() && twoPhase.ready();
    }

    /** Binds the control store's decision log: multi-shard commits and the recovery loop start. */
    public void bindDecisionLog(DecisionLog decisions) {
        twoPhase.bind(decisions);
        recovery.start();
    }

    public TaskCommands taskCommands() {
        return taskCommands.get();
    }

    public void bindTaskCommands(TaskCommands commands) {
        taskCommands.set(commands);
    }
}
