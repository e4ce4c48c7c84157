package dev.pgreshard.core.config;

/**
 * {@code [control]}: the PostgreSQL database holding the task registry, routing epochs, proxy
 * registry and cutover audit.
 */
public record ControlConfig(String url, String user, Secret password) {
}
