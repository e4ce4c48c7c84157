package dev.pgreshard.cli;

import dev.pgreshard.cli.load.CommitTimeline;
import dev.pgreshard.cli.load.LatencyRecorder;
import dev.pgreshard.cli.load.WriteLoad;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

/**
 * bench/cutover's writers in a JVM of their own, as an application's clients are: a stall of the bench's
 * JVM (which hosts the worker and the Temporal test server: its GC and safepoint pauses) then no longer
 * lengthens the commits the clients time. The parent drives the child with one word a line on its stdin —
 * {@code count} (answered with the commits so far) and {@code stop} (answered with the outcome, after the
 * commit timeline is written to a file) — and reads the answers from its stdout; the child's log goes to a
 * file. JVM options: {@code CLIENTS_JAVA_OPTS} (unset: {@code -XX:+UseZGC}, so that the clients' own
 * collector does not add pauses of its own to what they time).
 */
final class ClientsProcess implements CutoverBench.Writers {
    private static final String READY = "writing";

    private final Process process;
    private final BufferedWriter commands;
    private final BufferedReader answers;
    private final Path timelineFile;
    private final Path log;
    private CommitTimeline timeline;

    private ClientsProcess(Process process, Path timelineFile, Path log) {
        this.process = process;
        this.commands = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        this.answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        this.timelineFile = timelineFile;
        this.log = log;
    }

    /** Starts the writers of {@code settings} (its table must be {@link CutoverScenario#EVENTS}) in a new JVM. */
    static ClientsProcess start(WriteLoad.Settings settings, Path dir) throws IOException {
        if (settings.table() != CutoverScenario.EVENTS || !settings.assignedIdTables().isEmpty()) {
            throw new IllegalArgumentException("the clients' JVM writes CutoverScenario.EVENTS only");
        }
        Path timelineFile = dir.resolve("clients-timeline.bin");
        Path log = dir.resolve("clients.log");
        List<String> cmd = ChildJvm.command(javaOptions(), ClientsProcess.class, List.of(settings.jdbcUrl(), settings.user(),
                settings.password(), String.valueOf(settings.clients()), String.valueOf(settings.pauseBetweenMs()),
                timelineFile.toString()));
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        ClientsProcess clients = new ClientsProcess(p, timelineFile, log);
        String first = clients.answers.readLine();
        if (!READY.equals(first)) {
            clients.close();
            throw new IllegalStateException("the clients' JVM did not start writing (said " + first + "); its log, " + log
                    + ":\n" + Files.readString(log));
        }
        return clients;
    }

    /** CLIENTS_JAVA_OPTS, or ZGC when it is not set. */
    static String javaOptions() {
        String opts = System.getenv("CLIENTS_JAVA_OPTS");
        return opts == null || opts.isBlank() ? "-XX:+UseZGC" : opts.trim();
    }

    @Override
    public long committed() {
        return Long.parseLong(ask("count"));
    }

    @Override
    public CutoverBench.Outcome stop() throws IOException {
        String[] f = ask("stop").split(" ");
        try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(timelineFile)))) {
            timeline = CommitTimeline.readFrom(in);
        }
        long maxAt = Long.parseLong(f[5]);
        return new CutoverBench.Outcome(Long.parseLong(f[0]), new LatencyRecorder.Summary(Long.parseLong(f[1]),
                Double.parseDouble(f[2]), Double.parseDouble(f[3]), Double.parseDouble(f[4]),
                maxAt < 0 ? null : Instant.ofEpochMilli(maxAt)));
    }

    @Override
    public CommitTimeline timeline() {
        if (timeline == null) {
            throw new IllegalStateException("the clients' timeline is read when they stop");
        }
        return timeline;
    }

    private String ask(String command) {
        try {
            commands.write(command + "\n");
            commands.flush();
            String answer = answers.readLine();
            if (answer == null) {
                throw new IllegalStateException("the clients' JVM ended (exit " + exitOf(process) + "); its log, " + log
                        + ":\n" + Files.readString(log));
            }
            return answer;
        } catch (IOException e) {
            throw new IllegalStateException("the clients' JVM did not answer '" + command + "': " + e.getMessage()
                    + "; its log: " + log, e);
        }
    }

    private static String exitOf(Process p) {
        return p.isAlive() ? "still running" : String.valueOf(p.exitValue());
    }

    @Override
    public void close() {
        ChildJvm.stop(process);
    }

    /**
     * The child: {@code jdbcUrl user password clients pauseBetweenMs timelineFile}. Says {@value READY} once every
     * client is connected and writing; answers {@code count} with the commits so far, and {@code stop} with
     * {@code failed count p50 p99 max maxAtEpochMs} after writing the timeline, then exits.
     */
    public static void main(String[] args) throws Exception {
        // stdout carries the answers: anything else printing (a console log appender) goes to stderr, the log
        java.io.PrintStream out = new java.io.PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
                StandardCharsets.UTF_8);
        System.setOut(System.err);
        WriteLoad load = WriteLoad.start(new WriteLoad.Settings(args[0], args[1], args[2], CutoverScenario.EVENTS,
                Integer.parseInt(args[3]), Long.parseLong(args[4])));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        out.println(READY);
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("count")) {
                out.println(load.committed());
            } else if (line.equals("stop")) {
                WriteLoad.Result result = load.stop();
                try (DataOutputStream file = new DataOutputStream(new java.io.BufferedOutputStream(
                        Files.newOutputStream(Path.of(args[5]))))) {
                    load.timeline().writeTo(file);
                }
                LatencyRecorder.Summary l = result.latency();
                out.println(result.failed() + " " + l.count() + " " + l.p50Ms() + " " + l.p99Ms() + " " + l.maxMs() + " "
                        + (l.maxAt() == null ? -1 : l.maxAt().toEpochMilli()));
                System.exit(0);
            } else {
                out.println("unknown command: " + line);
            }
        }
        // the bench's JVM went away without a word: stop writing
        load.stop();
        System.exit(1);
    }
}
