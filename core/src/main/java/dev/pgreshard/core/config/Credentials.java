package dev.pgreshard.core.config;

/** A user name and its password; the password masks itself in {@link #toString()}. */
public record Credentials(String user, Secret password) {
}
