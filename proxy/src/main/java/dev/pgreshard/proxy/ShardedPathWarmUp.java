package dev.pgreshard.proxy;

import dev.pgreshard.core.runtime.ClassFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A proxy serving single-shard databases never runs the sharded path, so its first switch to several
 * shards used to load, link and initialize that path's classes on the event loops while clients
 * waited: the moves at the swap and the first requests after the resume (measured in bench/cutover
 * under load: up to ~1 s on the first switch of a JVM, a few ms on later ones). Every class of the
 * packages that path runs is loaded and initialized, once per JVM: at start when a configured cluster
 * has several shards ({@code ProxyServer}'s warm-up thread), else before such a switch pauses anyone
 * ({@link ProxyControl#prepareSwitch}). Compiled code cannot be had ahead; the loading can.
 */
final class ShardedPathWarmUp {
    private static final Logger LOG = LoggerFactory.getLogger(ShardedPathWarmUp.class);
    private static final List<String> PACKAGES = List.of("dev/pgreshard/proxy/sharded", "dev/pgreshard/proxy/routing",
            "dev/pgreshard/proxy/twophase", "dev/pgreshard/proxy/protocol", "dev/pgreshard/core/sharding");
    private static final AtomicBoolean DONE = new AtomicBoolean();

    private ShardedPathWarmUp() {
    }

    /**
     * Loads the sharded path's classes unless done already; returns how many were loaded now. A call while
     * another is loading returns at once (the classes it needs first are loaded on demand, as without it).
     */
    static int loadClasses() {
        if (!DONE.compareAndSet(false, true)) {
            return 0;
        }
        long started = System.nanoTime();
        ClassLoader loader = ShardedPathWarmUp.class.getClassLoader();
        int loaded = 0;
        for (String pkg : PACKAGES) {
            for (String name : classNames(loader, pkg)) {
                try {
                    Class.forName(name, true, loader);
                    loaded++;
                } catch (ReflectiveOperationException | LinkageError e) {
                    LOG.debug("sharded path warm-up: cannot load {}: {}", name, e.toString());
                }
            }
        }
        LOG.info("loaded {} classes of the sharded path ahead of the first switch to several shards in {} ms", loaded,
                (System.nanoTime() - started) / 1_000_000);
        return loaded;
    }

    /** The classes under {@code pkg} (sub-packages included); none when the package cannot be listed. */
    private static List<String> classNames(ClassLoader loader, String pkg) {
        try {
            return ClassFiles.under(loader, pkg).stream().map(ClassFiles::className).toList();
        } catch (IOException | RuntimeException e) {
            LOG.debug("sharded path warm-up: cannot list {}: {}", pkg, e.toString());
            return List.of();
        }
    }
}
