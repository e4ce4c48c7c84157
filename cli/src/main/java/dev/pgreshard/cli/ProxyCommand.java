package dev.pgreshard.cli;

import dev.pgreshard.cli.task.TaskService;
import dev.pgreshard.cli.task.WorkflowTaskCommands;
import dev.pgreshard.cli.temporal.TemporalFactory;
import dev.pgreshard.core.config.PgReshardConfig;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import dev.pgreshard.proxy.ProxyOptions;
import dev.pgreshard.proxy.auth.AuthMethod;
import dev.pgreshard.proxy.backend.Transport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code pgreshard proxy}: the PostgreSQL proxy (data port with the admin database, and the HTTP
 * control API) in the foreground until interrupted. It is a Temporal client (never a worker), so its
 * admin database serves RESHARD, SHOW TASKS, STOP_TASK, CUTOVER, ROLLBACK and FINALIZE like `run`'s;
 * Temporal is reached on the first such command, so the proxy serves traffic without it.
 */
@Command(name = "proxy", mixinStandardHelpOptions = true, description = "Run the PostgreSQL proxy: [general] host:port (admin database included) and the "
        + "HTTP control API on control_bind:control_port, until Ctrl-C; --host/--port/--control-port override them.")
public class ProxyCommand implements Runnable {
    @Mixin
    ConfigOptions config;

    @Mixin
    ProxyAddressOptions address;

    @Option(names = "--auth-method", paramLabel = "METHOD", defaultValue = "scram-sha-256",
            description = "how clients authenticate: scram-sha-256 or md5 (default: ${DEFAULT-VALUE})")
    String authMethod;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "0",
            description = "event-loop threads for client and server sockets (0 = one per core; one on 1-2 cores)")
    int threads;

    @Option(names = "--server-idle-timeout", paramLabel = "SECONDS", defaultValue = "0",
            description = "keep the server connection of a client that disconnected between transactions this long, "
                    + "reset with DISCARD ALL, for the next client of the same user, database and startup parameters, "
                    + "as PgBouncer's session mode does (default: ${DEFAULT-VALUE}, a new server process per client; "
                    + "a kept connection blocks DROP DATABASE of its database until it is closed)")
    long serverIdleTimeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PgReshardConfig cfg = address.apply(config.load());
        cfg.requireAdmin();
        AuthMethod method;
        try {
            method = AuthMethod.parse(authMethod);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
        if (threads < 0) {
            throw new BadInputException("--threads must be 0 or more, got " + threads);
        }
        if (serverIdleTimeout < 0) {
            throw new BadInputException("--server-idle-timeout must be 0 (never reuse) or more seconds, got " + serverIdleTimeout);
        }
        ProxyOptions options = ProxyOptions.DEFAULTS.withAuthMethod(method).withEventLoops(threads)
                .withServerIdleTimeoutMs(java.util.concurrent.TimeUnit.SECONDS.toMillis(serverIdleTimeout));
        ProxyHost host = ProxyHost.start(cfg, options);
        // a Temporal client, not a worker: the admin database's task commands work on every proxy
        WorkflowServiceStubs stubs = TemporalFactory.lazyStubs(cfg.temporal());
        TaskService tasks = new TaskService(cfg, WorkflowClient.newInstance(stubs,
                WorkflowClientOptions.newBuilder().setNamespace(cfg.temporal().namespace()).build()));
        host.server().bindTaskCommands(new WorkflowTaskCommands(cfg, tasks));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            host.close();
            tasks.close();
            stubs.shutdown();
        }, "pgreshard-proxy-shutdown"));
        spec.commandLine().getOut().println("pgreshard proxy listening on " + cfg.general().host() + ":" + host.server().port()
                + " (admin database '" + cfg.admin().name() + "', task commands through Temporal at "
                + cfg.temporal().address() + "), control API on " + host.controlUrl()
                + ", registered in the control store; sockets on " + Transport.describe());
        spec.commandLine().getOut().flush();
        host.awaitClose();
    }
}
