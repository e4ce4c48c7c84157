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
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        String opts = javaOptions();
        if (!opts.isEmpty()) {
            cmd.addAll(Arrays.asList(opts.split("\\s+")));
        }
        String logback = System.getProperty("logback.configurationFile");
        if (logback != null) {
            cmd.add("-Dlogback.configurationFile=" + logback);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PgReshardCommand.class.getName(), "proxy",
                "--config=" + config));
        cmd.addAll(Arrays.asList(extraArgs));
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
        stop(process);
    }

    /**
     * Ends a child process the way Ctrl-C does (SIGTERM: its shutdown hooks run), then forcibly if it lingers
     * past 15 s; shared by the benches' child JVMs.
     */
    static void stop(Process process) {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
