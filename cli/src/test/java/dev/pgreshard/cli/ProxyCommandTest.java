package dev.pgreshard.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code pgreshard proxy} refuses bad input with one line and exit code 2 (the proxy itself is tested in its module). */
class ProxyCommandTest {
    private static final String DB = "[[databases]]\nname = \"prod\"\nhost = \"127.0.0.1\"\ndatabase_name = \"app\"\nshard = 0\n";

    @Test
    void needsAnAdminSection(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("pgreshard.toml");
        Files.writeString(config, DB);
        ShardCommandTest.Result r = ShardCommandTest.run("proxy", "--config", config.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("[admin]"), r.err());
    }

    @Test
    void needsTheControlStoreToTakePartInCutovers(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("pgreshard.toml");
        Files.writeString(config, "[admin]\nuser = \"admin\"\npassword = \"x\"\n" + DB);
        ShardCommandTest.Result r = ShardCommandTest.run("proxy", "--config", config.toString());
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("[control]"), r.err());
    }

    @Test
    void rejectsAnUnknownAuthMethod(@TempDir Path dir) throws Exception {
        Path config = dir.resolve("pgreshard.toml");
        Files.writeString(config, "[admin]\nuser = \"admin\"\npassword = \"x\"\n" + DB);
        ShardCommandTest.Result r = ShardCommandTest.run("proxy", "--config", config.toString(), "--auth-method", "trust");
        assertEquals(2, r.exit(), r.err());
        assertTrue(r.err().contains("scram-sha-256 or md5"), r.err());
    }
}
