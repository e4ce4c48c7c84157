package dev.pgreshard.core.config;

import com.fasterxml.jackson.annotation.JsonCreator;

import java.util.Objects;

/**
 * A password or other credential. It never prints itself: {@link #toString()} is masked so that a
 * secret cannot reach a log line, an exception message or a workflow payload by accident. Code that
 * really needs the value (a JDBC connect, a SCRAM exchange) calls {@link #reveal()}.
 */
public final class Secret {
    private static final String MASK = "********";
    private final String value;

    private Secret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Secret of(String value) {
        return new Secret(value);
    }

    public String reveal() {
        return value;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    @Override
    public String toString() {
        return MASK;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && other.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }
}
