package dev.pgreshard.proxy.admin;

import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.session.QueryHandler;
import io.netty.buffer.ByteBufAllocator;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The admin database ({@code psql -h proxy -p 6432 -U admin admin}): each simple Query holds admin
 * commands separated by semicolons, answered as rows by {@link AdminCommands}. The extended protocol
 * gets an error at its Sync (use psql, or PgJDBC with preferQueryMode=simple). Nothing here closes the
 * connection except Terminate.
 */
public final class AdminHandler implements QueryHandler {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AdminHandler.class);
    private final ClientSession session;
    private final AdminCommands commands;
    private boolean extendedSeen;

    public AdminHandler(ClientSession session) {
        this.session = session;
        this.commands = new AdminCommands(session.proxy());
    }

    @Override
    public void start(RoutingTable.Route route) {
        Map<String, String> params = new LinkedHashMap<>();
        params.put("server_version", "15.0 (pgreshard admin)");
        params.put("server_encoding", "UTF8");
        params.put("client_encoding", "UTF8");
        params.put("DateStyle", "ISO, MDY");
        params.put("integer_datetimes", "on");
        params.put("standard_conforming_strings", "on");
        params.put("TimeZone", "UTC");
        params.put("application_name", session.startupParameters().getOrDefault("application_name", ""));
        session.loginComplete(params);
    }

    @Override
    public void handle(PgFrame frame) {
        try {
            switch (frame.typeChar()) {
                case 'X' -> session.close();
                case 'Q' -> {
                    FrontendMessage.Query q = (FrontendMessage.Query) FrontendMessage.decode(frame);
                    answer(q.sql());
                    ready();
                }
                case 'S' -> {
                    if (extendedSeen) {
                        session.writeError(SqlState.FEATURE_NOT_SUPPORTED, "the admin database speaks the simple query "
                                + "protocol only; use psql, or PgJDBC with preferQueryMode=simple");
                    }
                    extendedSeen = false;
                    ready();
                }
                case 'd', 'c', 'f', 'H' -> {
                    // nothing to do
                }
                default -> extendedSeen = true;
            }
        } finally {
            frame.release();
        }
    }

    private void answer(String sql) {
        List<String> statements = AdminCommands.splitStatements(sql);
        if (statements.isEmpty()) {
            session.write(BackendMessages.empty(alloc(), 'I'));
            return;
        }
        for (String statement : statements) {
            AdminCommands.Result result;
            try {
                result = commands.run(statement);
            } catch (AdminCommands.AdminError e) {
                session.writeError(e.sqlState(), e.getMessage());
                return; // like PostgreSQL: the rest of a multi-statement query is skipped after an error
            } catch (RuntimeException e) {
                LOG.warn("admin command failed: {}", statement.strip(), e);
                session.writeError(SqlState.INTERNAL_ERROR, "admin command failed: " + e);
                return;
            }
            if (result.columns() != null) {
                session.write(BackendMessages.textRowDescription(alloc(), result.columns()));
                for (List<String> row : result.rows()) {
                    session.write(BackendMessages.textDataRow(alloc(), row));
                }
            }
            session.write(BackendMessages.commandComplete(alloc(), result.tag()));
        }
    }

    private void ready() {
        session.write(BackendMessages.readyForQuery(alloc(), 'I'));
    }

    private ByteBufAllocator alloc() {
        return session.channel().alloc();
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
