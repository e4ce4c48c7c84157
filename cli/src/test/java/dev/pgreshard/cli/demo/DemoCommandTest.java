package dev.pgreshard.cli.demo;

import dev.pgreshard.cli.PgReshardCommand;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `pgreshard demo` end to end, small: its own PostgreSQL servers, Temporal, worker, proxy, a live
 * writer, RESHARD with automatic cutover, finalize; the report says zero failures and zero missing
 * writes, and the temporary directory (data directories, binaries) is gone afterwards.
 */
class DemoCommandTest {

    @Test
    void demoReshardsUnderLiveWritesAndLeavesNothingBehind() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true),
                "demo", "--orders", "20000", "--clients", "4", "--timeout", "180");
        String report = out.toString();
        assertEquals(0, exit, report + "\n" + err);
        assertTrue(report.contains("phase REVERSE_REPLICATING") && report.contains("phase DONE"), report);
        assertTrue(report.lines().anyMatch(l -> l.matches(" *[\\d.]+s +cutover attempt \\d+: swapped, clients paused \\d+ ms")),
                report);
        assertTrue(report.contains("public.orders") && report.contains("done"), "copy progress is shown: " + report);
        assertTrue(report.lines().anyMatch(l -> l.matches("rows moved: +2\\d,\\d{3} rows.*")), report);
        assertTrue(report.lines().anyMatch(l -> l.matches("failed client transactions: +0")), report);
        assertTrue(report.lines().anyMatch(l -> l.matches("acknowledged writes missing: +0")), report);
        assertTrue(report.lines().anyMatch(l -> l.matches("cutover pause: +\\d+ ms .*")), report);
        assertTrue(report.contains("every table matches"), report);
        assertTrue(report.contains("RESULT: PASS"), report);
        Matcher dir = Pattern.compile("temporary files in (\\S+),").matcher(report);
        assertTrue(dir.find(), report);
        assertFalse(Files.exists(Path.of(dir.group(1))), "the demo removes " + dir.group(1));
    }

    @Test
    void badOptionsAreExplained() {
        StringWriter err = new StringWriter();
        int exit = PgReshardCommand.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true),
                "demo", "--clients", "0");
        assertEquals(2, exit);
        assertTrue(err.toString().contains("--clients must be at least 1"), err.toString());
    }
}
