package dev.pgreshard.proxy;

import dev.pgreshard.proxy.admin.AdminHandler;
import dev.pgreshard.proxy.passthrough.PassThroughHandler;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.session.QueryHandler;
import dev.pgreshard.proxy.session.QueryHandlerFactory;
import dev.pgreshard.proxy.sharded.ShardedHandler;

/** The proxy's handler kinds: the admin database, pass-through to one shard, routing over several. */
final class QueryHandlers implements QueryHandlerFactory {
    @Override
    public QueryHandler admin(ClientSession session) {
        return new AdminHandler(session);
    }

    @Override
    public QueryHandler forRoute(ClientSession session, RoutingTable.Route route) {
        return route.cluster().shardCount() == 1 ? new PassThroughHandler(session) : new ShardedHandler(session);
    }
}
