package dev.pgreshard.activities.schema;

import dev.pgreshard.activities.catalog.NotRetryableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Finding pg_dump, and the errors when it is missing or too old. */
class PgDumpTest {

    private static Path fakePgDump(Path dir, String versionLine) throws Exception {
        Path script = dir.resolve("pg_dump");
        Files.writeString(script, "#!/bin/sh\necho '" + versionLine + "'\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    @Test
    void aConfiguredPathThatIsNotExecutableIsExplained() {
        NotRetryableException e = assertThrows(NotRetryableException.class,
                () -> PgDump.locate("/nonexistent/pg_dump", 15));
        assertEquals("pg_dump_path = \"/nonexistent/pg_dump\" in [general] is not an executable file; fix the path or "
                + "remove it to search PATH", e.getMessage());
    }

    @Test
    void aPgDumpOlderThanTheServerIsRefused(@TempDir Path dir) throws Exception {
        Path old = fakePgDump(dir, "pg_dump (PostgreSQL) 13.9");
        NotRetryableException e = assertThrows(NotRetryableException.class, () -> PgDump.locate(old.toString(), 15));
        assertEquals(old + " is pg_dump 13, older than the source server (15); pg_dump cannot dump a newer server: "
                + "install PostgreSQL 15 client tools or set pg_dump_path in [general]", e.getMessage());
        PgDump ok = PgDump.locate(fakePgDump(dir, "pg_dump (PostgreSQL) 16.2 (Debian 16.2-1)").toString(), 15);
        assertEquals(16, ok.major());
    }

    @Test
    void theInstalledPgDumpIsFoundWithoutConfiguration() {
        PgDump found = PgDump.locate("", 15);
        assertTrue(found.major() >= 15, found.toString());
    }
}
