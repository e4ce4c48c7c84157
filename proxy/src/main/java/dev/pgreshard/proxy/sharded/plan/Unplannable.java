package dev.pgreshard.proxy.sharded.plan;

/** The statement cannot be answered exactly across shards; the message says why and what to change. */
class Unplannable extends Exception {
    Unplannable(String message) {
        super(message, null, false, false);
    }

    /**
     * The statement is one PostgreSQL itself rejects (an ORDER BY position past the select list, an ambiguous
     * output name): the plan sends it to the shards as written, so the client gets PostgreSQL's own error.
     */
    static final class PostgresRejects extends Unplannable {
        PostgresRejects(String why) {
            super(why);
        }
    }
}
