package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.routing.RoutingTable;

/**
 * What a session does with the client's messages once it is logged in: pass-through to one shard,
 * routing over several, or the admin database. Called on the session's event loop only. The session
 * gets its handlers from the proxy's {@link QueryHandlerFactory}, so this package knows none of them.
 * A handler writes (to the client with {@link ClientSession#write}, to its servers with their
 * connections' write) and never flushes: see {@link ClientSession#flushAll} for the one flush rule.
 */
public interface QueryHandler {
    /** Opens what is needed and eventually calls {@link ClientSession#loginComplete}. */
    void start(RoutingTable.Route route);

    /** One client message (ownership passes). */
    void handle(PgFrame frame);

    /**
     * One client message: the bytes {@code [index, index + length)} of {@code messages}, which stays the
     * caller's (retain what is kept beyond the call). By default handed to {@link #handle(PgFrame)} as a frame
     * of its own; pass-through forwards consecutive messages of one read as one slice instead.
     */
    default void handle(io.netty.buffer.ByteBuf messages, int index, int length) {
        handle(new PgFrame(messages.getByte(index), messages.retainedSlice(index, length)));
    }

    /** At a transaction boundary: nothing in flight and no transaction open. */
    boolean idle();

    /** Requests were sent whose answers have not all come back (pipelining). */
    default boolean awaitingAnswers() {
        return false;
    }

    /** No request is open (the next client message starts one); requests may still be in flight. */
    boolean betweenRequests();

    /** Cannot take a client message of type {@code next} now (e.g. a fan-out still collecting answers). */
    default boolean blocked(char next) {
        return false;
    }

    /** The routing epoch this handler serves. */
    long epoch();

    /** Called at a transaction boundary when the database's route changed: move to the new cluster. */
    void switchRoute(RoutingTable.Route route);

    /**
     * Closes this handler after the session moved to another handler at a transaction boundary: as
     * {@code close}, but its server connections may end a moment later (see BackendConnection#retire).
     */
    default void retire() {
        close();
    }

    /**
     * Whether {@link #switchRoute} can move this handler to {@code route} in place; when not (a cutover
     * from one shard to several, or back), the session replaces it by the factory's handler for the route
     * and hands it over with {@link #takeStatements}, {@link #takeSettings} and {@link #adopt}.
     */
    default boolean canSwitchTo(RoutingTable.Route route) {
        return true;
    }

    /**
     * Hands over the client's named prepared statements (their Parse frames; ownership passes) when the
     * session replaces this handler by another kind (a cutover from one shard to several, or back).
     */
    default java.util.List<PgFrame> takeStatements() {
        return java.util.List.of();
    }

    /** The SET statements the client ran, for the replacing handler to replay. */
    default java.util.List<String> takeSettings() {
        return java.util.List.of();
    }

    /** The SET statements in effect (replayed on connections opened ahead of a switch); unchanged by the call. */
    default java.util.List<String> settings() {
        return takeSettings();
    }

    /**
     * The client's named prepared statements, name → the Parse frame that created it (still owned by the
     * handler), to prepare on connections opened ahead of a switch ({@link SwitchWarmUp}).
     */
    default java.util.Map<String, PgFrame> namedStatements() {
        return java.util.Map.of();
    }

    /** Starts as the replacement of another handler at a transaction boundary: no login, statements re-prepared. */
    default void adopt(RoutingTable.Route route, java.util.List<PgFrame> statements, java.util.List<String> settings) {
        statements.forEach(PgFrame::release);
        switchRoute(route);
    }

    /** Forwards a cancel request to every backend with a query running. */
    void cancel();

    /** Flushes what was written to the servers; called by {@link ClientSession#flushAll} only. */
    default void flushBackends() {
    }

    /** The client socket's writability changed (flow control). */
    default void clientWritable(boolean writable) {
    }

    /** Releases backends; no callbacks afterwards. */
    void close();

    /** Backends currently open, for SHOW SERVERS: "shard (pid)" strings. */
    default java.util.List<String> backendDescriptions() {
        return java.util.List.of();
    }
}
