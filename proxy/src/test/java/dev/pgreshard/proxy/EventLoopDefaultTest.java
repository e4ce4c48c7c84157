package dev.pgreshard.proxy;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code --threads 0}: one event loop on a small machine shared with the database, one per core above. */
class EventLoopDefaultTest {

    @Test
    void oneLoopOnOneOrTwoCoresOnePerCoreAbove() {
        assertEquals(1, ProxyServer.defaultEventLoops(1));
        assertEquals(1, ProxyServer.defaultEventLoops(2));
        assertEquals(3, ProxyServer.defaultEventLoops(3));
        assertEquals(8, ProxyServer.defaultEventLoops(8));
    }
}
