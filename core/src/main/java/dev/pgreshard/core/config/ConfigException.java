package dev.pgreshard.core.config;

/**
 * A configuration that cannot be used. The message always names the file, the entry and the fix,
 * and never contains a secret.
 */
public class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }

    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
