package dev.pgreshard.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code pgreshard proxy} in a JVM of its own, as production runs it (benchmarks): started on this JVM's
 * classpath with the JVM options of {@code PROXY_JAVA_OPTS} (unset: {@code -XX:+UseZGC}, the launcher's default for
 * the proxy), its output in a log file; ready once it
 * says it listens (it is then registered in the control store). Closing it ends the process the way
 * Ctrl-C does (its shutdown hook closes the proxy), then forcibly if it lingers.
 */
final class ProxyProcess implements AutoCloseable {
    private static final String READY = "pgreshard proxy listening";

    private final Process process;
    private final Path log;

    private ProxyProcess(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    /** {@code extraArgs}: e.g. --port=… --control-port=… to override the config's addresses. */
    static ProxyProcess start(Path config, Path log, String... extraArgs) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("proxy", "--config=" + config));
        args.addAll(Arrays.asList(extraArgs));
        String more = System.getenv("PROXY_ARGS"); // e.g. --threads=2 for one bench run
        if (more != null && !more.isBlank()) {
            args.addAll(Arrays.asList(more.trim().split("\\s+")));
        }
        List<String> cmd = ChildJvm.command(javaOptions(), PgReshardCommand.class, args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ProxyProcess proxy = new ProxyProcess(p, log);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!Files.readString(log).contains(READY)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                proxy.close();
                throw new IllegalStateException("the proxy process did not start (" + (p.isAlive() ? "no answer in 120 s"
                        : "exit " + p.exitValue()) + "); its output, " + log + ":\n" + Files.readString(log));
            }
            Thread.sleep(100);
        }
        return proxy;
    }

    /** PROXY_JAVA_OPTS, or the launcher's default for `pgreshard proxy` (ZGC) when it is not set. */
    static String javaOptions() {
        String opts = System.getenv("PROXY_JAVA_OPTS");
        return opts == null ? "-XX:+UseZGC" : opts.trim();
    }

    long pid() {
        return process.pid();
    }

    Path log() {
        return log;
    }

    @Override
    public void close() {
        ChildJvm.stop(process);
    }
}
