package dev.pgreshard.cli;

/** Input the user can fix (a value, an argument); the CLI exits with code 2. */
class BadInputException extends RuntimeException {
    BadInputException(String message) {
        super(message);
    }
}
