package dev.pgreshard.core.config;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * Reads pgreshard.toml and the users.toml beside it into a validated {@link PgReshardConfig}.
 * Every problem becomes a {@link ConfigException} naming the file, the entry and the fix; values of
 * keys that hold secrets are never echoed.
 */
public final class ConfigLoader {
    public static final String USERS_FILE = "users.toml";

    private static final ObjectMapper MAPPER = TomlMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            // shard = 0.5 must be an error, not shard 0: a silently truncated number moves data to the wrong place
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .build();

    private ConfigLoader() {
    }

    /** The layout of pgreshard.toml as written. */
    record ConfigFile(GeneralConfig general, TemporalConfig temporal, ControlConfig control, AdminConfig admin,
                      List<DatabaseConfig> databases,
                      @JsonProperty("sharded_tables") List<ShardedTableConfig> shardedTables) {
    }

    /** The layout of users.toml as written. */
    record UsersFile(List<UserConfig> users) {
    }

    /** Loads {@code configFile} and, if present, the users.toml in the same folder. */
    public static PgReshardConfig load(Path configFile) {
        Path dir = configFile.toAbsolutePath().getParent();
        return load(configFile, dir == null ? Path.of(USERS_FILE) : dir.resolve(USERS_FILE));
    }

    /** Loads {@code configFile} and {@code usersFile} (the latter may be absent). */
    public static PgReshardConfig load(Path configFile, Path usersFile) {
        String config = read(configFile, true);
        String users = read(usersFile, false);
        return parse(configFile.toString(), config, usersFile.toString(), users);
    }

    /**
     * Parses configuration text. {@code configName}/{@code usersName} only label error messages;
     * {@code usersToml} may be null (no users.toml).
     */
    public static PgReshardConfig parse(String configName, String configToml, String usersName, String usersToml) {
        ConfigFile file = readValue(configName, configToml, ConfigFile.class);
        UsersFile users = usersToml == null ? new UsersFile(List.of()) : readValue(usersName, usersToml, UsersFile.class);
        PgReshardConfig config = new PgReshardConfig(configName,
                file.general() == null ? GeneralConfig.DEFAULTS : file.general(),
                file.temporal() == null ? TemporalConfig.DEFAULTS : file.temporal(),
                file.control(), file.admin(),
                file.databases() == null ? List.of() : file.databases(),
                file.shardedTables() == null ? List.of() : file.shardedTables(),
                users.users() == null ? List.of() : users.users());
        new ConfigValidator(configName, usersName).validate(config);
        return config;
    }

    private static String read(Path file, boolean required) {
        try {
            return Files.readString(file);
        } catch (NoSuchFileException e) {
            if (required) {
                throw new ConfigException(file + ": no such file; pass --config with the path of your pgreshard.toml");
            }
            return null;
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read it (" + e.getMessage() + "); check the path and permissions", e);
        }
    }

    private static <T> T readValue(String fileName, String text, Class<T> type) {
        try {
            return MAPPER.readValue(text, type);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigException(fileName + ": unknown key '" + e.getPropertyName() + "' " + where(e)
                    + "; known keys there: " + known(e.getKnownPropertyIds()) + ". Fix: remove or rename it", null);
        } catch (MismatchedInputException e) {
            throw new ConfigException(fileName + ": " + mismatch(e), null);
        } catch (JsonProcessingException e) {
            throw new ConfigException(fileName + ": " + syntax(text, e), null);
        }
    }

    private static String mismatch(MismatchedInputException e) {
        String key = lastKey(e.getPath());
        String expected = describe(e.getTargetType());
        StringBuilder msg = new StringBuilder("key '").append(key).append("' ").append(where(e))
                .append(" must be ").append(expected);
        if (e instanceof InvalidFormatException invalid && !isSecretKey(key)) {
            msg.append(" (got '").append(invalid.getValue()).append("')");
        }
        return msg.append("; fix its value").toString();
    }

    private static String syntax(String text, JsonProcessingException e) {
        JsonLocation loc = e.getLocation();
        String at = loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
        String detail = e.getOriginalMessage();
        if (loc != null && lineMentionsSecret(text, loc.getLineNr())) {
            detail = "the line holds a secret, so it is not shown";
        }
        return "TOML syntax error" + at + ": " + detail + "; fix the file (strings need double quotes)";
    }

    private static boolean lineMentionsSecret(String text, int lineNr) {
        String[] lines = text.split("\n", -1);
        return lineNr >= 1 && lineNr <= lines.length && lines[lineNr - 1].toLowerCase().contains("password");
    }

    private static boolean isSecretKey(String key) {
        return key.toLowerCase().contains("password");
    }

    /** "in [[databases]] entry #2", "in [general]", "at the top level". */
    private static String where(JsonMappingException e) {
        List<JsonMappingException.Reference> path = e.getPath();
        StringBuilder sb = new StringBuilder();
        // the last element is the key itself; what comes before it says where the key sits
        for (int i = 0; i < path.size() - 1; i++) {
            JsonMappingException.Reference ref = path.get(i);
            if (ref.getFieldName() != null) {
                boolean array = i + 1 < path.size() - 1 && path.get(i + 1).getIndex() >= 0;
                sb.setLength(0);
                sb.append(array ? "in [[" + ref.getFieldName() + "]]" : "in [" + ref.getFieldName() + "]");
            } else if (ref.getIndex() >= 0) {
                sb.append(" entry #").append(ref.getIndex() + 1);
            }
        }
        return sb.length() == 0 ? "at the top level" : sb.toString();
    }

    private static String lastKey(List<JsonMappingException.Reference> path) {
        for (int i = path.size() - 1; i >= 0; i--) {
            if (path.get(i).getFieldName() != null) {
                return path.get(i).getFieldName();
            }
        }
        return "(document)";
    }

    private static String describe(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class) {
            return "a whole number";
        }
        if (type == String.class || type == Secret.class) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "true or false";
        }
        if (Collection.class.isAssignableFrom(type)) {
            return "an array of tables ([[...]] entries)";
        }
        return "a table ([...] section)";
    }

    private static String known(Collection<Object> ids) {
        if (ids == null || ids.isEmpty()) {
            return "(none)";
        }
        return ids.stream().map(String::valueOf).collect(Collectors.toCollection(TreeSet::new)).stream()
                .collect(Collectors.joining(", "));
    }
}
