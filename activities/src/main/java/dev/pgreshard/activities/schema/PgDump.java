package dev.pgreshard.activities.schema;

import dev.pgreshard.activities.catalog.NotRetryableException;
import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.topology.Shard;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The pg_dump binary: found via [general] pg_dump_path, then PATH, then the newest
 * /usr/lib/postgresql/NN/bin; run as a child process with the password in PGPASSWORD (never on
 * the command line, which other users can read in the process list, and never in a log).
 */
public final class PgDump {
    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\)\\s+(\\d+)");
    private final Path binary;
    private final int major;

    private PgDump(Path binary, int major) {
        this.binary = binary;
        this.major = major;
    }

    /** Finds pg_dump and checks it can dump a server of major version {@code serverMajor}. */
    public static PgDump locate(String configuredPath, int serverMajor) {
        List<Path> candidates = new ArrayList<>();
        if (configuredPath != null && !configuredPath.isBlank()) {
            Path p = Path.of(configuredPath);
            if (!Files.isExecutable(p)) {
                throw new NotRetryableException("pg_dump_path = \"" + configuredPath + "\" in [general] is not an "
                        + "executable file; fix the path or remove it to search PATH");
            }
            candidates.add(p);
        } else {
            for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
                if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "pg_dump"))) {
                    candidates.add(Path.of(dir, "pg_dump"));
                }
            }
            candidates.addAll(debianBinaries());
        }
        if (candidates.isEmpty()) {
            throw new NotRetryableException("pg_dump not found (looked at [general] pg_dump_path, PATH and "
                    + "/usr/lib/postgresql/*/bin); install the PostgreSQL " + serverMajor
                    + " client tools or set pg_dump_path in [general]");
        }
        PgDump best = null;
        for (Path p : candidates) {
            int v = version(p);
            if (v >= serverMajor) {
                return new PgDump(p, v);
            }
            if (best == null || v > best.major) {
                best = new PgDump(p, v);
            }
        }
        throw new NotRetryableException(best.binary + " is pg_dump " + best.major + ", older than the source server ("
                + serverMajor + "); pg_dump cannot dump a newer server: install PostgreSQL " + serverMajor
                + " client tools or set pg_dump_path in [general]");
    }

    /** /usr/lib/postgresql/NN/bin/pg_dump, newest first. */
    private static List<Path> debianBinaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return List.of();
        }
        try (Stream<Path> dirs = Files.list(root)) {
            return dirs.map(d -> d.resolve("bin/pg_dump")).filter(Files::isExecutable)
                    .sorted(Comparator.comparingInt(PgDump::numericParent).reversed()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static int numericParent(Path pgDump) {
        try {
            return Integer.parseInt(pgDump.getParent().getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    static int version(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            Matcher m = VERSION.matcher(out);
            if (!m.find()) {
                throw new NotRetryableException(binary + " --version printed '" + out.strip()
                        + "', not a pg_dump version; set pg_dump_path in [general] to a real pg_dump");
            }
            return Integer.parseInt(m.group(1));
        } catch (IOException e) {
            throw new NotRetryableException("cannot run " + binary + ": " + e.getMessage()
                    + "; set pg_dump_path in [general] to a working pg_dump");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking pg_dump for its version", e);
        }
    }

    public Path binary() {
        return binary;
    }

    public int major() {
        return major;
    }

    /** Runs pg_dump with {@code options} against {@code shard}; returns the plain-text script. */
    public String dump(Shard shard, Credentials credentials, List<String> options) {
        List<String> command = new ArrayList<>();
        command.add(binary.toString());
        command.add("--host=" + shard.host());
        command.add("--port=" + shard.port());
        command.add("--username=" + credentials.user());
        command.add("--no-password");
        command.addAll(options);
        command.add(shard.databaseName());
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PGPASSWORD", credentials.password().reveal());
        pb.environment().put("PGCONNECT_TIMEOUT", "10");
        pb.environment().put("PGAPPNAME", "pgreshard-schema-sync");
        pb.environment().remove("PGSERVICE");
        try {
            Process p = pb.start();
            p.getOutputStream().close();
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
            byte[] out = readAll(p.getInputStream());
            int exit = p.waitFor();
            if (exit != 0) {
                String reason = new String(err.join(), StandardCharsets.UTF_8).strip().replace('\n', ' ');
                throw new NotRetryableException("pg_dump of " + shard.describe() + " failed (exit " + exit + "): "
                        + reason);
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + binary, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running pg_dump", e);
        }
    }

    private static byte[] readAll(InputStream in) {
        try (in; ByteArrayOutputStream buf = new ByteArrayOutputStream()) {
            in.transferTo(buf);
            return buf.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String toString() {
        return binary + " (pg_dump " + major + ")";
    }
}
