package dev.pgreshard.proxy.session;

import dev.pgreshard.proxy.ProxyContext;
import dev.pgreshard.proxy.auth.AuthenticationFailure;
import dev.pgreshard.proxy.auth.ClientAuthExchange;
import dev.pgreshard.proxy.auth.UserDirectory;
import dev.pgreshard.proxy.protocol.BackendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.protocol.StartupPacket;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/**
 * The startup phase of one client connection: SSLRequest and GSSENCRequest answered, a CancelRequest
 * passed to the session it names, the StartupMessage checked, then the password exchange of
 * {@link ClientAuthExchange} up to AuthenticationOk, after which {@link ClientSession#loggedIn} starts the
 * message phase. The client waits for each answer here, so each is flushed at once.
 */
final class ClientStartup {
    private static final Logger LOG = LoggerFactory.getLogger(ClientStartup.class);

    private static final long LOGIN_TIMEOUT_SECONDS = 60;

    private final ClientSession session;
    private final ProxyContext proxy;
    private ClientAuthExchange auth;

    ClientStartup(ClientSession session, ProxyContext proxy) {
        this.session = session;
        this.proxy = proxy;
    }

    /** Like PostgreSQL's authentication_timeout: a client that does not finish logging in is dropped. */
    void armLoginTimeout(EventLoop loop) {
        loop.schedule(() -> {
            if (session.loggingIn()) {
                session.fatal(SqlState.CANNOT_CONNECT, "canceling authentication due to timeout");
            }
        }, LOGIN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    /** A packet of the startup phase (the session checked that it is still in that phase). */
    void onStartupPacket(ChannelHandlerContext ctx, StartupPacket packet) {
        if (packet instanceof StartupPacket.SslRequest) {
            boolean willing = proxy.sslContext() != null && ctx.pipeline().get("tls") == null;
            ctx.writeAndFlush(BackendMessages.encryptionResponse(ctx.alloc(), willing));
            if (willing) {
                ctx.pipeline().addFirst("tls", proxy.sslContext().newHandler(ctx.alloc()));
            }
        } else if (packet instanceof StartupPacket.GssEncRequest) {
            ctx.writeAndFlush(BackendMessages.encryptionResponse(ctx.alloc(), false));
        } else if (packet instanceof StartupPacket.CancelRequest c) {
            ClientSession target = proxy.sessions().byProcessId(c.processId());
            if (target != null) {
                target.cancelRequested(c.secretKey());
            }
            session.closeCancelConnection(ctx);
        } else if (packet instanceof StartupPacket.StartupMessage m) {
            onStartupMessage(ctx, m);
        }
    }

    private void onStartupMessage(ChannelHandlerContext ctx, StartupPacket.StartupMessage m) {
        String user = m.user();
        String db = m.database();
        if (m.parameters().containsKey("replication")) {
            session.fatal(SqlState.FEATURE_NOT_SUPPORTED, "replication connections are not supported through the "
                    + "pgreshard proxy; connect to the server directly");
            return;
        }
        boolean admin = db.equals(proxy.adminDatabase());
        if (!admin && proxy.routing().route(db) == null) {
            session.fatal(SqlState.INVALID_CATALOG_NAME, "database \"" + db + "\" does not exist");
            return;
        }
        session.startupAccepted(m.parameters(), user, db);
        UserDirectory.Login login = proxy.users().find(user, db).orElse(null);
        auth = new ClientAuthExchange(proxy.options().authMethod(), proxy.users(), user, login, proxy.random());
        ctx.writeAndFlush(auth.start(ctx.alloc()));
    }

    /** A message while authenticating (the caller releases the frame). */
    void onPasswordMessage(PgFrame frame) {
        if (frame.typeChar() != 'p') {
            session.fatal(SqlState.PROTOCOL_VIOLATION, "expected a password message, got '" + frame.typeChar() + "'");
            return;
        }
        Channel channel = session.channel();
        ByteBuf reply;
        try {
            reply = auth.onPasswordMessage(frame.body(), channel.alloc());
        } catch (AuthenticationFailure e) {
            LOG.info("client {} failed to authenticate as {} to {}: {}", channel.remoteAddress(), session.user(),
                    session.database(), e.getMessage());
            proxy.metrics().authenticationFailure();
            session.fatal(SqlState.INVALID_PASSWORD, "password authentication failed for user \"" + session.user() + "\"");
            return;
        }
        if (reply != null) {
            channel.write(reply);
        }
        if (auth.done()) {
            channel.write(BackendMessages.authenticationOk(channel.alloc()));
            channel.flush();
            auth = null;
            session.loggedIn();
        } else {
            channel.flush();
        }
    }
}
