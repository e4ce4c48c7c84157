package dev.pgreshard.core.sharding;

/** A shard-key value that is not a valid value of the key's type. The message names value and type. */
public class ShardKeyParseException extends IllegalArgumentException {
    public ShardKeyParseException(String message) {
        super(message);
    }
}
