package dev.pgreshard.proxy;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.testkit.FreePorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A port that another process holds: the proxy refuses to start with an error naming the address,
 * the config key to change, and the cause — for the data port and for the control API's port — and
 * leaves no port of its own bound behind (a second start on free ports works).
 */
class PortInUseTest {

    @Test
    void aDataPortInUseNamesTheAddressAndTheKey(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int controlPort = FreePorts.next();
            PgReshardConfig config = config(dir, taken.getLocalPort(), controlPort);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ProxyServer.start(config, ProxyOptions.DEFAULTS).close());
            String m = e.getMessage();
            assertTrue(m.contains("127.0.0.1:" + taken.getLocalPort()), m);
            assertTrue(m.contains("[general] port"), m);
            assertTrue(m.toLowerCase().contains("address already in use"), m);
            // the control port was not left bound by the failed start
            try (ServerSocket again = new ServerSocket(controlPort, 1, InetAddress.getByName("127.0.0.1"))) {
                assertTrue(again.isBound());
            }
        }
    }

    @Test
    void aControlPortInUseNamesTheAddressAndTheKeyAndReleasesTheDataPort(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int dataPort = FreePorts.next();
            PgReshardConfig config = config(dir, dataPort, taken.getLocalPort());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> ProxyServer.start(config, ProxyOptions.DEFAULTS).close());
            String m = e.getMessage();
            assertTrue(m.contains("127.0.0.1:" + taken.getLocalPort()), m);
            assertTrue(m.contains("control_port"), m);
            assertTrue(m.toLowerCase().contains("address already in use"), m);
            try (ServerSocket again = new ServerSocket(dataPort, 1, InetAddress.getByName("127.0.0.1"))) {
                assertTrue(again.isBound(), "the data port was released");
            }
        }
    }

    private static PgReshardConfig config(Path dir, int port, int controlPort) throws Exception {
        Files.writeString(dir.resolve("pgreshard.toml"), "[general]\nhost = \"127.0.0.1\"\nport = " + port
                + "\ncontrol_port = " + controlPort + "\n\n[admin]\nuser = \"admin\"\npassword = \"admin\"\n\n"
                + "[[databases]]\nname = \"prod\"\nhost = \"127.0.0.1\"\nport = 5432\n");
        Files.writeString(dir.resolve("users.toml"), "[[users]]\nname = \"app\"\ndatabase = \"prod\"\npassword = \"x\"\n");
        return ConfigLoader.load(dir.resolve("pgreshard.toml"));
    }
}
