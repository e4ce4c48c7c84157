package dev.pgreshard.cli;

import dev.pgreshard.core.config.ConfigLoader;
import dev.pgreshard.core.config.PgReshardConfig;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --config FILE} (users.toml is read from the same folder), shared by every command. */
public class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE", defaultValue = "pgreshard.toml",
            description = "pgreshard.toml to use; users.toml is read from the same folder (default: ${DEFAULT-VALUE})")
    public Path config;

    public PgReshardConfig load() {
        return ConfigLoader.load(config);
    }
}
