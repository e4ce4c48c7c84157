package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.RoutingTable;

/** Placeholder: routing over several shards is not written yet. */
final class ShardedHandler implements QueryHandler {
    private final ClientSession session;

    ShardedHandler(ClientSession session) {
        this.session = session;
    }

    @Override
    public void start(RoutingTable.Route route) {
        session.fatal(SqlState.FEATURE_NOT_SUPPORTED, "databases with more than one shard are not supported yet");
    }

    @Override
    public void handle(PgFrame frame) {
        frame.release();
    }

    @Override
    public boolean idle() {
        return true;
    }

    @Override
    public boolean betweenRequests() {
        return true;
    }

    @Override
    public long epoch() {
        return 0;
    }

    @Override
    public void switchRoute(RoutingTable.Route route) {
    }

    @Override
    public void cancel() {
    }

    @Override
    public void close() {
    }
}
