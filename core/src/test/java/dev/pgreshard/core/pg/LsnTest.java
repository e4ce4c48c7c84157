package dev.pgreshard.core.pg;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LsnTest {
    @Test
    void parsesAndPrintsPostgresForm() {
        Lsn lsn = Lsn.parse("16/B374D848");
        assertEquals(0x16B374D848L, lsn.value());
        assertEquals("16/B374D848", lsn.toString());
        assertEquals("0/0", Lsn.INVALID.toString());
        assertEquals(Lsn.parse("0/1"), Lsn.of(1));
    }

    @Test
    void jsonIsThePostgresFormAndReadsTheOldObjectForm() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        record Position(int shard, Lsn lsn) {
        }
        assertEquals("{\"shard\":1,\"lsn\":\"0/16B3748\"}", json.writeValueAsString(new Position(1, Lsn.of(0x16B3748))));
        assertEquals(Lsn.of(0x16B3748), json.readValue("{\"shard\":1,\"lsn\":\"0/16B3748\"}", Position.class).lsn());
        // saved workflow histories from before hold {"value": n}
        assertEquals(Lsn.of(256), json.readValue("{\"shard\":0,\"lsn\":{\"value\":256}}", Position.class).lsn());
        assertEquals(Lsn.of(256), json.readValue("{\"shard\":0,\"lsn\":256}", Position.class).lsn());
        assertThrows(Exception.class, () -> json.readValue("{\"shard\":0,\"lsn\":\"nope\"}", Position.class));
    }

    @Test
    void ordersAsUnsigned() {
        Lsn high = Lsn.parse("FFFFFFFF/FFFFFFFF");
        Lsn low = Lsn.parse("0/10");
        assertTrue(high.isAfter(low));
        assertEquals(high, Lsn.max(low, high));
        assertEquals(low, Lsn.min(low, high));
        assertEquals(0x10, Lsn.parse("0/20").bytesAfter(low));
        assertEquals(0, low.bytesAfter(Lsn.parse("0/20")));
    }

    @Test
    void rejectsGarbageNamingIt() {
        for (String bad : new String[] {"", "16", "/1", "1/", "x/1", "123456789/1", null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lsn.parse(bad));
            assertTrue(e.getMessage().contains("is not an LSN"), e.getMessage());
        }
    }
}
