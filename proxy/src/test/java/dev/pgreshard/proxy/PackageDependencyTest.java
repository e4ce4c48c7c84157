package dev.pgreshard.proxy;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The proxy's package layout (docs/architecture.md §7), checked on the sources: which sub-package of
 * {@code dev.pgreshard.proxy} refers to which (imports and fully qualified names). The root package is
 * the composition root and the shared context (ProxyServer, ProxyContext, ...); the rules here are about
 * the sub-packages: they form no cycle, and the session knows no handler kind.
 */
class PackageDependencyTest {
    private static final Path SOURCES = Path.of("src/main/java/dev/pgreshard/proxy");
    private static final Pattern REFERENCE = Pattern.compile("\\bdev\\.pgreshard\\.proxy\\.([a-z][a-z0-9]*)\\.");

    @Test
    void sessionKnowsNoHandlerKind() {
        Set<String> used = dependencies().getOrDefault("session", Set.of());
        for (String forbidden : List.of("admin", "passthrough", "sharded")) {
            assertTrue(!used.contains(forbidden), "package session must not refer to " + forbidden + " (handlers come from "
                    + "the QueryHandlerFactory built by ProxyServer); it refers to " + used);
        }
    }

    @Test
    void backendAndProtocolAreBelowTheSessions() {
        Map<String, Set<String>> deps = dependencies();
        for (String upper : List.of("session", "admin", "passthrough", "sharded")) {
            assertTrue(!deps.getOrDefault("backend", Set.of()).contains(upper), "backend must not refer to " + upper);
            assertTrue(!deps.getOrDefault("protocol", Set.of()).contains(upper), "protocol must not refer to " + upper);
        }
        assertTrue(!deps.getOrDefault("passthrough", Set.of()).contains("sharded"), "passthrough must not refer to sharded");
        assertTrue(!deps.getOrDefault("sharded", Set.of()).contains("passthrough"), "sharded must not refer to passthrough");
    }

    @Test
    void subPackagesHaveNoCycle() {
        Map<String, Set<String>> deps = dependencies();
        assertTrue(deps.containsKey("session") && deps.containsKey("sharded"), "sources not found under " + SOURCES.toAbsolutePath());
        List<String> cycles = new ArrayList<>();
        for (String start : deps.keySet()) {
            findCycle(deps, start, new ArrayList<>(List.of(start)), cycles);
        }
        assertEquals(List.of(), cycles, "package cycles among the proxy's sub-packages");
    }

    private static void findCycle(Map<String, Set<String>> deps, String at, List<String> path, List<String> cycles) {
        for (String next : deps.getOrDefault(at, Set.of())) {
            if (next.equals(path.get(0))) {
                String cycle = String.join(" -> ", path) + " -> " + next;
                if (path.get(0).equals(path.stream().min(String::compareTo).orElseThrow())) {
                    cycles.add(cycle); // each cycle once, from its smallest package
                }
            } else if (!path.contains(next) && next.compareTo(path.get(0)) > 0) {
                path.add(next);
                findCycle(deps, next, path, cycles);
                path.remove(path.size() - 1);
            }
        }
    }

    /** Sub-package → the other sub-packages its sources refer to. */
    private static Map<String, Set<String>> dependencies() {
        Map<String, Set<String>> deps = new TreeMap<>();
        try (Stream<Path> files = Files.walk(SOURCES)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                Path dir = SOURCES.relativize(file.getParent());
                if (dir.toString().isEmpty()) {
                    continue; // the root package
                }
                String pkg = dir.getName(0).toString();
                Set<String> used = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REFERENCE.matcher(Files.readString(file));
                while (m.find()) {
                    if (!m.group(1).equals(pkg)) {
                        used.add(m.group(1));
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return deps;
    }
}
