package dev.pgreshard.proxy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the PostgreSQL command-line clients (psql, pgbench) installed on the machine. */
final class Tools {
    record Result(int exitCode, String output) {
    }

    private Tools() {
    }

    static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(List.of(command)).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + String.join(" ", command));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Result psql(ProxyFixture proxy, String database, String sql, String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()), "-U", ProxyFixture.USER, "-d", database));
        cmd.addAll(List.of(extra));
        cmd.add("-c");
        cmd.add(sql);
        return run(Map.of("PGPASSWORD", ProxyFixture.PASSWORD, "PGSSLMODE", "disable"), cmd.toArray(String[]::new));
    }

    static Result pgbench(ProxyFixture proxy, String database, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/pgbench", "-h", "127.0.0.1", "-p", String.valueOf(proxy.port()),
                "-U", ProxyFixture.USER));
        cmd.addAll(List.of(args));
        cmd.add(database);
        return run(Map.of("PGPASSWORD", ProxyFixture.PASSWORD, "PGSSLMODE", "disable"), cmd.toArray(String[]::new));
    }
}
