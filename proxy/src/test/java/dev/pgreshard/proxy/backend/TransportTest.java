package dev.pgreshard.proxy.backend;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Which socket transport the proxy's event loops run on, for what is asked and what the machine offers. */
class TransportTest {

    @Test
    void ioUringFirstThenEpollThenNio() {
        assertEquals(Transport.Kind.IO_URING, Transport.choose("io_uring", () -> true, () -> true));
        assertEquals(Transport.Kind.EPOLL, Transport.choose("io_uring", () -> false, () -> true));
        assertEquals(Transport.Kind.NIO, Transport.choose("io_uring", () -> false, () -> false));
        assertEquals(Transport.Kind.EPOLL, Transport.choose("epoll", () -> true, () -> true));
        assertEquals(Transport.Kind.NIO, Transport.choose("epoll", () -> true, () -> false));
        assertEquals(Transport.Kind.NIO, Transport.choose(" NIO ", () -> true, () -> true));
    }

    @Test
    void askingForNioProbesNothingNative() {
        assertEquals(Transport.Kind.NIO, Transport.choose("nio", () -> fail("io_uring probed"), () -> fail("epoll probed")));
        assertEquals(Transport.Kind.EPOLL, Transport.choose("epoll", () -> fail("io_uring probed"), () -> true));
    }

    @Test
    void anUnknownTransportIsRefusedNamingThePropertyAndTheChoices() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Transport.choose("uring2", () -> true, () -> true));
        assertTrue(e.getMessage().contains("-Dpgreshard.proxy.transport=uring2"), e.getMessage());
        assertTrue(e.getMessage().contains("io_uring, epoll or nio"), e.getMessage());
    }
}
