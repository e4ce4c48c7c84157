package dev.pgreshard.testkit;

import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;

/**
 * The Temporal Java test server ({@code io.temporal.testserver.TestServer <port>}) in a child JVM:
 * a real gRPC endpoint that workers in other processes connect to, for crash-resume tests. Its
 * state is in memory, so it must outlive the workers it serves.
 */
public final class StandaloneTemporalServer implements AutoCloseable {
    private ChildJvm jvm;
    private final int port;

    private StandaloneTemporalServer(ChildJvm jvm, int port) {
        this.jvm = jvm;
        this.port = port;
    }

    public static StandaloneTemporalServer start() {
        int port = FreePorts.next();
        StandaloneTemporalServer server = new StandaloneTemporalServer(launch(port), port);
        server.awaitListening(Duration.ofSeconds(60));
        return server;
    }

    private static ChildJvm launch(int port) {
        return ChildJvm.start("io.temporal.testserver.TestServer", List.of("-Xmx512m"), List.of(String.valueOf(port)));
    }

    /**
     * SIGKILLs the server and starts a new one on the same port, for fault tests. The test server
     * keeps its state in memory: every workflow is gone afterwards, exactly as after a real restart
     * of the development server.
     */
    public void restart() {
        jvm.kill();
        jvm = launch(port);
        awaitListening(Duration.ofSeconds(60));
    }

    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:port}, the value of {@code [temporal] target}. */
    public String target() {
        return "127.0.0.1:" + port;
    }

    /** Client stubs for this server; the caller shuts them down. */
    public WorkflowServiceStubs newServiceStubs() {
        return WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder().setTarget(target()).build());
    }

    private void awaitListening(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!jvm.isAlive()) {
                throw new IllegalStateException("Temporal test server exited:\n" + jvm.output());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                sleep();
            }
        }
        throw new IllegalStateException("Temporal test server not listening on " + port + " after " + timeout
                + ":\n" + jvm.output());
    }

    private static void sleep() {
        try {
            Thread.sleep(100);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        jvm.close();
    }
}
