package dev.pgreshard.cli.load;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The longest commit around a moment, and the same answer from a timeline written by another process. */
class CommitTimelineTest {
    @Test
    void theLongestCommitOverlappingAWindowSurvivesBeingWrittenAndReadBack() throws Exception {
        CommitTimeline t = new CommitTimeline();
        t.record(1_000, 5_000_000, 1_000_000, 2_000_000);      // ran 995..1000 ms
        t.record(2_000, 300_000_000, 290_000_000, 4_000_000);  // ran 1700..2000 ms: the stall
        t.record(5_000, 900_000_000, 0, 0);                    // ran 4100..5000 ms: outside the window
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        t.writeTo(new DataOutputStream(bytes));
        CommitTimeline read = CommitTimeline.readFrom(new DataInputStream(new ByteArrayInputStream(bytes.toByteArray())));

        for (CommitTimeline timeline : new CommitTimeline[] {t, read}) {
            CommitTimeline.Window w = timeline.around(900, 2_500);
            assertEquals(300.0, w.longestMs());
            assertEquals(2_000, w.longestEndedAtMillis());
            assertEquals(1_700, w.longestStartedAtMillis());
            assertEquals(2, w.commits());
            assertEquals(290.0, w.longestFirstMs());
            assertEquals(4.0, w.longestCommitMs());
        }
        assertEquals(900.0, read.around(4_500, 4_600).longestMs());
    }
}
