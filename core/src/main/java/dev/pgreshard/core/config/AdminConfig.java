package dev.pgreshard.core.config;

/** {@code [admin]}: the proxy's admin database and its credentials. */
public record AdminConfig(String name, String user, Secret password) {
    public AdminConfig {
        name = name == null ? "admin" : name;
    }
}
