package dev.pgreshard.activities.replication.pgoutput;

import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Begin;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Column;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Commit;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Delete;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Insert;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.LogicalMessage;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Origin;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Relation;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Truncate;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Type;
import dev.pgreshard.activities.replication.pgoutput.PgOutputMessage.Update;
import dev.pgreshard.core.pg.Lsn;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The byte sequences below were captured from PostgreSQL 15.19 with
 * {@code pg_logical_slot_get_binary_changes(slot, NULL, NULL, 'proto_version', '1', 'publication_names', ..., 'messages', 'true')}
 * running the workload of {@link PgOutputCapture}; {@link #decodesAFreshCaptureFromTheServer} repeats the capture live.
 */
@ExtendWith(PostgresExtension.class)
class PgOutputDecoderTest {
    private final PgOutputDecoder decoder = new PgOutputDecoder();

    private PgOutputMessage decode(String hex) {
        return decoder.decode(ByteBuffer.wrap(HexFormat.of().parseHex(hex)));
    }

    @Test
    void begin() {
        Begin b = (Begin) decode("420000000001917f20000303c1198d1021000002da");
        assertEquals(Lsn.parse("0/1917F20"), b.finalLsn());
        assertEquals(848552822378529L, b.commitTimeMicros());
        assertEquals(730, b.xid());
        // 2026-11-21, i.e. the capture day: PostgreSQL's epoch is 2000-01-01
        assertEquals(1795237622378L, PgOutputDecoder.toEpochMillis(b.commitTimeMicros()));
    }

    @Test
    void commit() {
        Commit c = (Commit) decode("43000000000001917f200000000001917f50000303c1198d1021");
        assertEquals(0, c.flags());
        assertEquals(Lsn.parse("0/1917F20"), c.commitLsn());
        assertEquals(Lsn.parse("0/1917F50"), c.endLsn());
        assertEquals(848552822378529L, c.commitTimeMicros());
    }

    @Test
    void typeAndRelation() {
        assertEquals(new Type(16386, "public", "mood"), decode("59000040027075626c6963006d6f6f6400"));
        Relation r = (Relation) decode("52000040077075626c69630074006400040169640000000014ffffffff006e616d650000000019ffffffff"
                + "006d0000004002ffffffff006269670000000019ffffffff");
        assertEquals(16391, r.relationId());
        assertEquals("public", r.namespace());
        assertEquals("t", r.name());
        assertEquals(Relation.IDENTITY_DEFAULT, r.replicaIdentity());
        assertEquals(List.of(new Column(true, "id", 20, -1), new Column(false, "name", 25, -1), new Column(false, "m", 16386, -1),
                new Column(false, "big", 25, -1)), r.columns());
        Relation full = (Relation) decode("520000400e7075626c696300660066000201610000000017ffffffff01620000000019ffffffff");
        assertEquals(Relation.IDENTITY_FULL, full.replicaIdentity());
        assertTrue(full.columns().stream().allMatch(Column::isKey), "FULL marks every column as identity");
    }

    @Test
    void insertWithQuotesNullsAndUtf8() {
        Insert i = (Insert) decode("49000040074e00047400000001317400000003612762740000000568617070796e");
        assertEquals(16391, i.relationId());
        TupleData t = i.newTuple();
        assertEquals(4, t.size());
        assertEquals("1", t.text(0));
        assertEquals("a'b", t.text(1));
        assertEquals("happy", t.text(2));
        assertTrue(t.isNull(3));
        assertNull(t.text(3));
        Insert u = (Insert) decode("49000040074e00047400000001327400000002c3bc7400000003736164740000000a78787878787878787878");
        assertEquals("ü", u.newTuple().text(1));
        assertEquals("xxxxxxxxxx", u.newTuple().text(3));
    }

    @Test
    void updateWithoutOldTupleKeepsUnchangedToastApart() {
        Update u = (Update) decode("55000040074e0004740000000133740000000163740000000373616475");
        assertEquals(0, u.oldKind());
        assertNull(u.oldTuple());
        assertEquals("c", u.newTuple().text(1));
        assertTrue(u.newTuple().isUnchangedToast(3));
        assertFalse(u.newTuple().isNull(3));
    }

    @Test
    void updateOfTheKeySendsTheOldKey() {
        Update u = (Update) decode("55000040074b00047400000001316e6e6e4e0004740000000231307400000003612762740000000568617070796e");
        assertEquals('K', u.oldKind());
        assertEquals("1", u.oldTuple().text(0));
        assertTrue(u.oldTuple().isNull(1));
        assertEquals("10", u.newTuple().text(0));
    }

    @Test
    void updateAndDeleteWithReplicaIdentityFull() {
        Update u = (Update) decode("550000400e4f00027400000001316e4e0002740000000131740000000178");
        assertEquals('O', u.oldKind());
        assertTrue(u.oldTuple().isNull(1));
        assertEquals("x", u.newTuple().text(1));
        Delete d = (Delete) decode("440000400e4f0002740000000131740000000178");
        assertEquals('O', d.oldKind());
        assertEquals("x", d.oldTuple().text(1));
        Delete k = (Delete) decode("44000040074b00047400000001326e6e6e");
        assertEquals('K', k.oldKind());
        assertEquals("2", k.oldTuple().text(0));
    }

    @Test
    void truncateMessageAndOrigin() {
        Truncate t = (Truncate) decode("540000000202000040070000400e");
        assertFalse(t.cascade());
        assertTrue(t.restartIdentity());
        assertArrayEquals(new int[] {16391, 16398}, t.relationIds());
        LogicalMessage m = (LogicalMessage) decode("4d01000000000192a630706772657368617264000000000568656c6c6f");
        assertTrue(m.transactional());
        assertEquals(Lsn.parse("0/192A630"), m.lsn());
        assertEquals("pgreshard", m.prefix());
        assertEquals("hello", new String(m.content(), StandardCharsets.UTF_8));
        assertEquals(new Origin(Lsn.parse("0/1234"), "elsewhere"), decode("4f0000000000001234656c7365776865726500"));
    }

    @Test
    void malformedInputIsRejectedWithAReason() {
        assertThrows(PgOutputFormatException.class, () -> decode("5a00"));            // unknown type Z
        assertThrows(PgOutputFormatException.class, () -> decode("4200000000"));      // truncated Begin
        assertThrows(PgOutputFormatException.class, () -> decode("440000400758"));    // DELETE without K/O
        assertThrows(PgOutputFormatException.class, () -> decode("52000040077075626c6963")); // unterminated string
    }

    @Test
    void decodesAFreshCaptureFromTheServer(TestDatabase db) {
        List<PgOutputMessage> messages = PgOutputCapture.captureEveryMessageType(db).stream()
                .map(b -> decoder.decode(ByteBuffer.wrap(b))).toList();
        for (PgOutputMessageType type : PgOutputMessageType.values()) {
            assertTrue(messages.stream().anyMatch(m -> m.type() == type), "no " + type + " message in the capture");
        }
        Insert toasted = messages.stream().filter(m -> m instanceof Insert i && "toast".equals(i.newTuple().text(1)))
                .map(Insert.class::cast).findFirst().orElseThrow();
        assertEquals(64000, toasted.newTuple().text(3).length());
        assertTrue(messages.stream().anyMatch(m -> m instanceof Update u && u.oldTuple() == null
                && u.newTuple().isUnchangedToast(3)), "the UPDATE of another column leaves the TOASTed one out");
        long begins = messages.stream().filter(m -> m instanceof Begin).count();
        assertEquals(begins, messages.stream().filter(m -> m instanceof Commit).count());
    }
}
