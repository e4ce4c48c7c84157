package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.routing.RoutingTable;

import java.util.List;

/**
 * Makes the {@link QueryHandler} of a logged-in session. Built by the proxy at start (it knows the
 * handler kinds; the session package does not, so the dependencies point one way: handlers use
 * sessions, sessions use this interface).
 */
public interface QueryHandlerFactory {
    /** The handler of the admin database. */
    QueryHandler admin(ClientSession session);

    /** The handler of a database served by {@code route}: pass-through for one shard, routing for several. */
    QueryHandler forRoute(ClientSession session, RoutingTable.Route route);

    /**
     * At a transaction boundary after the database's route changed: the handler that serves
     * {@code route} from now on. {@code current} itself when it can move in place; otherwise (one shard
     * to several, or back) a new handler that adopted {@code current}'s prepared statements and session
     * settings, {@code current} being retired.
     */
    default QueryHandler moveTo(ClientSession session, QueryHandler current, RoutingTable.Route route) {
        if (current.canSwitchTo(route)) {
            current.switchRoute(route);
            return current;
        }
        List<PgFrame> statements = current.takeStatements();
        List<String> settings = current.takeSettings();
        current.retire();
        QueryHandler next = forRoute(session, route);
        next.adopt(route, statements, settings);
        return next;
    }
}
