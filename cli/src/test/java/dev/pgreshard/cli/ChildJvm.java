package dev.pgreshard.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A JVM the benches start beside their own (a proxy, the clients): its command line and its stop. */
final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * {@code java OPTIONS [-Dlogback.configurationFile=…] -cp <this JVM's classpath> MAIN ARGS}: this JVM's java,
     * classpath and logback configuration, so the child runs the same code and logs the same way.
     */
    static List<String> command(String javaOptions, Class<?> main, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        if (!javaOptions.isBlank()) {
            cmd.addAll(Arrays.asList(javaOptions.trim().split("\\s+")));
        }
        String logback = System.getProperty("logback.configurationFile");
        if (logback != null) {
            cmd.add("-Dlogback.configurationFile=" + logback);
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        return cmd;
    }

    /**
     * Ends a child the way Ctrl-C does (SIGTERM: its shutdown hooks run), then forcibly if it lingers past 15 s.
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
