package dev.pgreshard.workflows.copy;

/**
 * One key range [from, to) of a split table, as text literals of the key's type; null is an open end.
 * The ranges of a table partition the whole key domain (the first has no lower bound, the last no
 * upper one), so wherever the boundaries came from, every row of the snapshot is in exactly one range.
 */
public record KeyRange(String from, String to) {
}
