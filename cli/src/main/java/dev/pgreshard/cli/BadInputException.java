package dev.pgreshard.cli;

/** Input the user can fix (a value, an argument); the CLI exits with code 2. */
public class BadInputException extends RuntimeException {
    public BadInputException(String message) {
        super(message);
    }
}
