package dev.pgreshard.proxy.routing;

/** Where a shard-key value comes from in a statement: a literal, a bind parameter ($n), or NULL. */
public sealed interface KeyRef {
    /** A literal in PostgreSQL's text input format (numbers, quoted strings, casts stripped). */
    record Literal(String text) implements KeyRef {
    }

    /** Bind parameter {@code $index} (1-based). */
    record Param(int index) implements KeyRef {
    }

    /** The NULL literal (shard 0, like PostgreSQL's hash partitioning). */
    record Null() implements KeyRef {
    }
}
