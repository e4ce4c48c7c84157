package dev.pgreshard.core.pg;

import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.testkit.PostgresExtension;
import dev.pgreshard.testkit.TestDatabase;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

@ExtendWith(PostgresExtension.class)
class IdentifiersTest {
    @Test
    void quotingKeepsHostileNamesOneIdentifier(TestDatabase db) {
        TableName hostile = new TableName("Sales Q1", "x\"; DROP TABLE victim; --");
        db.execute("CREATE TABLE victim (id int)",
                "CREATE SCHEMA " + Identifiers.quote(hostile.schema()),
                "CREATE TABLE " + hostile.quoted() + " (\"Order Id\" int)",
                "INSERT INTO " + hostile.quoted() + " VALUES (1)");
        assertEquals(1, db.queryLong("SELECT count(*) FROM " + hostile.quoted()));
        assertEquals(0, db.queryLong("SELECT count(*) FROM victim"));
        assertEquals(1, db.queryLong("SELECT count(*) FROM pg_tables WHERE schemaname = "
                + Identifiers.literal(hostile.schema()) + " AND tablename = " + Identifiers.literal(hostile.name())));
    }

    @Test
    void tableNamesParseAtTheFirstDot() {
        assertEquals(new TableName("public", "orders"), TableName.parse("orders"));
        assertEquals(new TableName("sales", "Line Items"), TableName.parse("sales.Line Items"));
        assertEquals("\"sales\".\"Line Items\"", TableName.parse("sales.Line Items").quoted());
        assertThrows(IllegalArgumentException.class, () -> TableName.parse(".x"));
        assertThrows(IllegalArgumentException.class, () -> Identifiers.quote(""));
    }
}
