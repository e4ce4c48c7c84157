package dev.pgreshard.testkit;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A separate JVM running a main class on this test JVM's classpath, for crash tests: it can be
 * killed with SIGKILL ({@link #kill()}) exactly like a production process dying. Its output goes
 * to a log file that {@link #output()} reads back for assertions and failure messages.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;
    private final Path log;
    private final String description;

    private ChildJvm(Process process, Path log, String description) {
        this.process = process;
        this.log = log;
        this.description = description;
    }

    /** Starts {@code mainClass} with {@code args}; {@code jvmArgs} such as -Xmx256m go before the class. */
    public static ChildJvm start(String mainClass, List<String> jvmArgs, List<String> args) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        try {
            Path log = Files.createTempFile("pgreshard-child-", ".log");
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile())
                    .directory(new File(System.getProperty("user.dir"))).start();
            return new ChildJvm(p, log, mainClass + " " + String.join(" ", args));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start child JVM for " + mainClass, e);
        }
    }

    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hooks, no cleanup, like a crash or an OOM kill. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("child JVM " + pid() + " survived SIGKILL for 30 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM (what Ctrl-C or a service manager's stop does): shutdown hooks run; returns the exit code, -1 on timeout. */
    public int terminate(long timeout, TimeUnit unit) throws InterruptedException {
        process.destroy();
        return waitFor(timeout, unit);
    }

    /** Waits for the process to exit by itself; returns its exit code, or -1 on timeout. */
    public int waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        return process.waitFor(timeout, unit) ? process.exitValue() : -1;
    }

    /** Everything the child printed so far. */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }

    @Override
    public String toString() {
        return "child JVM " + pid() + " (" + description + ")";
    }
}
