package dev.pgreshard.core.config;

import dev.pgreshard.core.sharding.ShardKeyType;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.core.topology.TableName;
import dev.pgreshard.core.topology.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

class ConfigLoaderTest {
    static final String SOURCE = """
            [[databases]]
            name = "prod"
            host = "127.0.0.1"
            port = 5432
            database_name = "app"
            shard = 0
            """;
    static final String SHARDED = """
            [[databases]]
            name = "prod_sharded"
            host = "10.0.0.2"
            database_name = "app"
            shard = 0

            [[databases]]
            name = "prod_sharded"
            host = "10.0.0.3"
            database_name = "app"
            shard = 1
            """;
    static final String TABLE = """
            [[sharded_tables]]
            database = "prod_sharded"
            name = "orders"
            column = "customer_id"
            data_type = "bigint"
            """;
    static final String USERS = """
            [[users]]
            name = "app"
            database = "prod"
            password = "hunter2-users"

            [[users]]
            name = "app"
            database = "prod_sharded"
            password = "hunter2-users"
            server_user = "replicator"
            server_password = "hunter2-server"
            """;

    @Test
    void parsesTheArchitectureExample() {
        PgReshardConfig c = ConfigLoader.parse("pgreshard.toml", """
                [general]
                host = "0.0.0.0"
                port = 7432
                cutover_pause_budget_ms = 500

                [temporal]
                target = "temporal.internal:7233"

                [control]
                url = "jdbc:postgresql://127.0.0.1:5432/pgreshard"
                user = "pgreshard"
                password = "hunter2-control"

                [admin]
                password = "hunter2-admin"
                user = "admin"
                """ + SOURCE + SHARDED + TABLE + """
                [[sharded_tables]]
                database = "prod_sharded"
                name = "Sales.Line Items"
                column = "OrderId"
                data_type = "uuid"
                """, "users.toml", USERS);

        assertEquals("0.0.0.0", c.general().host());
        assertEquals(7432, c.general().port());
        assertEquals(6433, c.general().controlPort(), "default");
        assertEquals(500L, c.general().cutoverPauseBudgetMs());
        assertEquals(1_048_576L, c.general().cutoverLagThresholdBytes(), "default");
        assertFalse(c.temporal().isEmbedded());
        assertEquals("pgreshard", c.temporal().taskQueue(), "default");
        assertEquals("admin", c.requireAdmin().name(), "default");
        assertEquals("hunter2-control", c.requireControl().password().reveal());

        Topology topology = Topology.of(c);
        Cluster sharded = topology.cluster("prod_sharded");
        assertEquals(2, sharded.shardCount());
        assertEquals("10.0.0.3", sharded.shard(1).host());
        assertEquals(5432, sharded.shard(1).port(), "default port");
        assertEquals(ShardKeyType.UUID, sharded.shardedTable(new TableName("Sales", "Line Items")).orElseThrow().keyType());
        assertTrue(sharded.isSharded(TableName.parse("orders")));
        assertFalse(topology.cluster("prod").isSharded(TableName.parse("orders")));

        Credentials server = c.serverCredentials("prod_sharded");
        assertEquals("replicator", server.user());
        assertEquals("hunter2-server", server.password().reveal());
        assertEquals("app", c.serverCredentials("prod").user());
    }

    @Test
    void defaultsWithoutOptionalSections() {
        PgReshardConfig c = ConfigLoader.parse("pgreshard.toml", SOURCE, "users.toml", null);
        assertEquals(GeneralConfig.DEFAULTS, c.general());
        assertTrue(c.temporal().isEmbedded());
        assertEquals("127.0.0.1:7233", c.temporal().address());
        assertNull(c.control());
        ConfigException noControl = assertThrows(ConfigException.class, c::requireControl);
        assertTrue(noControl.getMessage().contains("[control]"), noControl.getMessage());
        ConfigException noAdmin = assertThrows(ConfigException.class, c::requireAdmin);
        assertTrue(noAdmin.getMessage().contains("[admin]"), noAdmin.getMessage());
        ConfigException noUser = assertThrows(ConfigException.class, () -> c.serverCredentials("prod"));
        assertTrue(noUser.getMessage().contains("no [[users]] entry for database 'prod'"), noUser.getMessage());
        ConfigException unknown = assertThrows(ConfigException.class, () -> Topology.of(c).cluster("nope"));
        assertTrue(unknown.getMessage().contains("unknown database 'nope'") && unknown.getMessage().contains("prod"));
    }

    @Test
    void secretsNeverPrint() {
        PgReshardConfig c = ConfigLoader.parse("pgreshard.toml", """
                [control]
                url = "jdbc:postgresql://h/db"
                user = "u"
                password = "hunter2-control"
                [admin]
                user = "admin"
                password = "hunter2-admin"
                """ + SOURCE + SHARDED, "users.toml", USERS);
        String printed = c.toString();
        assertFalse(printed.contains("hunter2"), printed);
        assertTrue(printed.contains("********"));
    }

    @Test
    void loadsUsersTomlBesideTheConfig(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("pgreshard.toml"), SOURCE + SHARDED);
        Files.writeString(dir.resolve("users.toml"), USERS);
        PgReshardConfig c = ConfigLoader.load(dir.resolve("pgreshard.toml"));
        assertEquals(2, c.users().size());
        ConfigException missing = assertThrows(ConfigException.class, () -> ConfigLoader.load(dir.resolve("nope.toml")));
        assertTrue(missing.getMessage().contains("nope.toml: no such file"), missing.getMessage());
    }

    static Stream<Arguments> brokenConfigs() {
        return Stream.of(
                arguments("unknown key in a shard", SOURCE.replace("port = 5432", "prot = 5432"), USERS,
                        "pgreshard.toml: unknown key 'prot' in [[databases]] entry #1; known keys there: database_name, host, name, port, shard. Fix: remove or rename it"),
                arguments("unknown key in [general]", "[general]\nbind = \"x\"\n" + SOURCE, USERS,
                        "pgreshard.toml: unknown key 'bind' in [general]"),
                arguments("unknown top-level section", "[generl]\nport = 1\n" + SOURCE, USERS,
                        "pgreshard.toml: unknown key 'generl' at the top level"),
                arguments("wrong type", SOURCE.replace("port = 5432", "port = \"fivefour\""), USERS,
                        "pgreshard.toml: key 'port' in [[databases]] entry #1 must be a whole number (got 'fivefour')"),
                arguments("syntax error", "[general\nport = 1\n", USERS, "pgreshard.toml: TOML syntax error at line 1"),
                arguments("no databases", "[general]\nport = 7000\n", USERS, "pgreshard.toml: defines no [[databases]]"),
                arguments("duplicate shard", SOURCE + SOURCE.replace("127.0.0.1", "127.0.0.2"), USERS,
                        "pgreshard.toml: [[databases]] entries #1 and #2 both declare shard 0 of database 'prod'"),
                arguments("shards with a gap", SOURCE + SHARDED.replace("shard = 1", "shard = 2"), USERS,
                        "pgreshard.toml: database 'prod_sharded' has shards [0, 2] but shard numbers must run from 0 without gaps (missing [1])"),
                arguments("shards not starting at 0", SOURCE.replace("shard = 0", "shard = 1"), USERS,
                        "database 'prod' has shards [1] but shard numbers must run from 0 without gaps (missing [0])"),
                arguments("negative shard", SOURCE.replace("shard = 0", "shard = -1"), USERS, "has shard -1; shards count from 0"),
                arguments("missing host", SOURCE.replace("host = \"127.0.0.1\"\n", ""), USERS,
                        "[[databases]] entry #1 ('prod') host is missing or empty"),
                arguments("port out of range", SOURCE.replace("port = 5432", "port = 70000"), USERS,
                        "[[databases]] entry #1 ('prod') port is 70000; use a TCP port between 1 and 65535"),
                arguments("sharded table on unknown database", SOURCE + SHARDED + TABLE.replace("\"prod_sharded\"", "\"prod_shrded\""),
                        USERS, "[[sharded_tables]] entry #1 ('orders') names database 'prod_shrded', which no [[databases]] entry defines (known: prod, prod_sharded)"),
                arguments("unsupported data_type", SOURCE + SHARDED + TABLE.replace("bigint", "numeric"), USERS,
                        "[[sharded_tables]] entry #1 ('orders') has data_type 'numeric', which is not supported; use one of bigint, integer, text, varchar, uuid"),
                arguments("sharded table without column", SOURCE + SHARDED + TABLE.replace("column = \"customer_id\"\n", ""), USERS,
                        "[[sharded_tables]] entry #1 ('orders') column is missing or empty"),
                arguments("table declared twice", SOURCE + SHARDED + TABLE + TABLE.replace("name = \"orders\"", "name = \"public.orders\""),
                        USERS, "[[sharded_tables]] entry #2 declares table public.orders of database 'prod_sharded' a second time"),
                arguments("user without password", SOURCE, "[[users]]\nname = \"app\"\ndatabase = \"prod\"\n",
                        "users.toml: [[users]] entry #1 ('app') has no password; add password = \"...\""),
                arguments("user with empty password", SOURCE, "[[users]]\nname = \"app\"\ndatabase = \"prod\"\npassword = \"\"\n",
                        "users.toml: [[users]] entry #1 ('app') has no password"),
                arguments("user for unknown database", SOURCE, "[[users]]\nname = \"app\"\ndatabase = \"prd\"\npassword = \"x\"\n",
                        "users.toml: [[users]] entry #1 ('app') names database 'prd', which pgreshard.toml does not define (known: prod)"),
                arguments("unknown key in users.toml", SOURCE, "[[users]]\nname = \"app\"\ndatabase = \"prod\"\npassword = \"x\"\npool_size = 3\n",
                        "users.toml: unknown key 'pool_size' in [[users]] entry #1"),
                arguments("admin without password", "[admin]\nuser = \"admin\"\n" + SOURCE, USERS,
                        "pgreshard.toml: [admin] has no password; add password = \"...\""),
                arguments("admin without user", "[admin]\npassword = \"s3cret\"\n" + SOURCE, USERS,
                        "pgreshard.toml: [admin] has no user"),
                arguments("control with a non-JDBC url", "[control]\nurl = \"postgres://x\"\nuser = \"u\"\npassword = \"p\"\n" + SOURCE,
                        USERS, "[control] url must be a PostgreSQL JDBC URL"),
                arguments("bad temporal target", "[temporal]\ntarget = \"temporal\"\n" + SOURCE, USERS,
                        "[temporal] target 'temporal' is neither \"embedded\" nor host:port"),
                arguments("same data and control port", "[general]\nport = 7000\ncontrol_port = 7000\n" + SOURCE, USERS,
                        "[general] port and control_port are both 7000"),
                arguments("wrong type: boolean port in [general]", "[general]\nport = true\n" + SOURCE, USERS,
                        "key 'port' in [general] must be a whole number"),
                arguments("wrong type: array for a host", SOURCE.replace("host = \"127.0.0.1\"", "host = [\"a\", \"b\"]"),
                        USERS, "key 'host' in [[databases]] entry #1 must be"),
                arguments("wrong type: fractional shard", SOURCE.replace("shard = 0", "shard = 0.5"), USERS,
                        "key 'shard' in [[databases]] entry #1 must be a whole number"),
                arguments("wrong type: [[databases]] written as a table", "[databases]\nname = \"prod\"\n", USERS,
                        "pgreshard.toml: key 'databases'"),
                arguments("injection in a database name", SOURCE.replace("name = \"prod\"", "name = \"prod\\\"; DROP TABLE t; --\""),
                        USERS.replace("database = \"prod\"", "database = \"prod\\\"; DROP TABLE t; --\""),
                        "[[databases]] entry #1 name 'prod\"; DROP TABLE t; --' may contain only letters, digits, '_', '-' and '.'"),
                arguments("injection in data_type", SOURCE + SHARDED + TABLE.replace("\"bigint\"", "\"bigint); DROP TABLE t; --\""),
                        USERS, "has data_type 'bigint); DROP TABLE t; --', which is not supported; use one of bigint"),
                arguments("table name that is only a schema", SOURCE + SHARDED + TABLE.replace("\"orders\"", "\"sales.\""), USERS,
                        "[[sharded_tables]] entry #1 name: 'sales.' is not a table name; write table or schema.table"),
                arguments("column name longer than PostgreSQL allows", SOURCE + SHARDED + TABLE.replace("customer_id", "c".repeat(70)),
                        USERS, "column '" + "c".repeat(70) + "' is 70 bytes; PostgreSQL names have at most 63 bytes"),
                arguments("NUL in a table name", SOURCE + SHARDED + TABLE.replace("\"orders\"", "\"ord\\u0000ers\""), USERS,
                        "table name contains a NUL character"),
                arguments("tls half configured", "[general]\ntls_certificate = \"/c.pem\"\n" + SOURCE, USERS,
                        "[general] tls_certificate and tls_private_key go together"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("brokenConfigs")
    void brokenConfigIsRejectedWithAClearMessage(String why, String config, String users, String expected) {
        ConfigException e = assertThrows(ConfigException.class,
                () -> ConfigLoader.parse("pgreshard.toml", config, "users.toml", users));
        assertTrue(e.getMessage().contains(expected), "expected «" + expected + "» in «" + e.getMessage() + "»");
    }

    @Test
    void secretValuesAreNotEchoedInErrors() {
        ConfigException typeError = assertThrows(ConfigException.class, () -> ConfigLoader.parse("pgreshard.toml",
                "[admin]\nuser = \"a\"\npassword = [\"hunter2-inline\"]\n" + SOURCE, "users.toml", null));
        assertFalse(typeError.getMessage().contains("hunter2"), typeError.getMessage());
        ConfigException syntax = assertThrows(ConfigException.class, () -> ConfigLoader.parse("pgreshard.toml",
                "[admin]\nuser = \"a\"\npassword = hunter2-unquoted\n" + SOURCE, "users.toml", null));
        assertFalse(syntax.getMessage().contains("hunter2"), syntax.getMessage());
        assertTrue(syntax.getMessage().contains("line 3"), syntax.getMessage());
    }
}
