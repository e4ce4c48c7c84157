package dev.pgreshard.proxy.admin;

import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.session.QueryHandler;

/** Placeholder. */
public final class AdminHandler implements QueryHandler {
    private final ClientSession session;

    public AdminHandler(ClientSession session) {
        this.session = session;
    }

    @Override
    public void start(RoutingTable.Route route) {
        session.loginComplete(java.util.Map.of());
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
