package dev.pgreshard.cli.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker-compose.yml and its Dockerfile, checked without a Docker engine: pinned images, health
 * checks behind every depends_on condition, logical WAL where replication needs it, and mounted
 * files that exist and load (pgreshard.toml with ConfigLoader; the sample schema has the tables the
 * config shards and the publication RESHARD names).
 */
class ComposeFileTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern PINNED = Pattern.compile("[a-z0-9./_-]+:[0-9][0-9A-Za-z._-]*");

    private final JsonNode compose = read();

    private static JsonNode read() {
        try {
            return new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile());
        } catch (Exception e) {
            throw new AssertionError("docker-compose.yml does not parse: " + e.getMessage(), e);
        }
    }

    private Iterable<Map.Entry<String, JsonNode>> services() {
        List<Map.Entry<String, JsonNode>> list = new ArrayList<>();
        compose.get("services").fields().forEachRemaining(list::add);
        return list;
    }

    @Test
    void everyImageIsPinnedAndEveryDependencyHasAHealthCheck() {
        for (Map.Entry<String, JsonNode> s : services()) {
            String image = s.getValue().path("image").asText();
            assertTrue(PINNED.matcher(image).matches(), s.getKey() + ": image '" + image + "' must name a version");
            assertTrue(s.getValue().has("healthcheck"), s.getKey() + " has no healthcheck");
            Iterator<Map.Entry<String, JsonNode>> deps = s.getValue().path("depends_on").fields();
            while (deps.hasNext()) {
                Map.Entry<String, JsonNode> d = deps.next();
                assertTrue(compose.get("services").has(d.getKey()), s.getKey() + " depends on unknown " + d.getKey());
                assertEquals("service_healthy", d.getValue().path("condition").asText(), s.getKey() + " -> " + d.getKey());
            }
        }
        for (String name : List.of("temporal", "temporal-ui", "temporal-db", "source", "shard0", "shard1", "control",
                "pgreshard")) {
            assertTrue(compose.get("services").has(name), "service " + name + " missing");
        }
    }

    @Test
    void dockerfileStagesArePinned() throws Exception {
        List<String> froms = Files.readAllLines(ROOT.resolve("Dockerfile")).stream().filter(l -> l.startsWith("FROM ")).toList();
        assertEquals(2, froms.size(), froms.toString());
        for (String from : froms) {
            assertTrue(PINNED.matcher(from.split("\\s+")[1]).matches(), from);
        }
        assertTrue(Files.readString(ROOT.resolve("Dockerfile")).contains("package -pl cli -am"), "builds the cli fat jar");
    }

    @Test
    void replicatedServersRunWithLogicalWal() {
        for (String name : List.of("source", "shard0", "shard1")) {
            String command = compose.get("services").get(name).get("command").toString();
            assertTrue(command.contains("\"wal_level=logical\""), name + ": " + command);
        }
    }

    @Test
    void mountedFilesExistAndTheConfigMatchesTheSampleSchema() throws Exception {
        for (Map.Entry<String, JsonNode> s : services()) {
            for (JsonNode v : s.getValue().path("volumes")) {
                String host = v.asText().split(":")[0];
                if (host.startsWith("./")) {
                    assertTrue(Files.isRegularFile(ROOT.resolve(host)), s.getKey() + " mounts missing " + host);
                }
            }
        }
        PgReshardConfig config = ConfigLoader.load(ROOT.resolve("docker/pgreshard.toml"));
        assertFalse(config.temporal().isEmbedded(), "compose runs a real Temporal server");
        assertEquals("temporal:7233", config.temporal().address());
        Topology topology = Topology.of(config);
        Cluster dst = topology.cluster("dst");
        assertEquals(2, dst.shardCount());
        assertEquals(1, topology.cluster("src").shardCount());
        assertEquals(List.of("source", "shard0", "shard1"),
                List.of(topology.cluster("src").shard(0).host(), dst.shard(0).host(), dst.shard(1).host()));
        config.serverCredentials("src");
        config.serverCredentials("dst");

        String schema = Files.readString(ROOT.resolve("docker/source/init.sql"));
        Matcher pub = Pattern.compile("CREATE PUBLICATION pub FOR TABLE ([^;]+);").matcher(schema);
        assertTrue(pub.find(), "init.sql creates publication pub");
        List<String> published = List.of(pub.group(1).split(",\\s*"));
        for (String t : List.of("tenants", "orders")) {
            assertTrue(dst.shardedTable(TableName.parse(t)).isPresent(), t + " is sharded in docker/pgreshard.toml");
            assertTrue(published.contains(t), t + " is published");
            assertTrue(schema.contains("CREATE TABLE " + t + " ("), t + " is created");
        }
        assertTrue(published.contains("plans") && dst.shardedTable(TableName.parse("plans")).isEmpty(),
                "plans is published and omnisharded");
        String pgreshard = compose.get("services").get("pgreshard").toString();
        assertTrue(pgreshard.contains("\"6432:6432\"") && pgreshard.contains("\"6433:6433\""), pgreshard);
        assertEquals("0.0.0.0", config.general().host(), "the proxy must listen beyond the container's loopback");
        assertEquals("0.0.0.0", config.general().controlBind());
    }
}
