package dev.pgreshard.proxy.session;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.backend.WarmConnections;
import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.PgFrame;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The warm switch of one session: before a cutover (or rollback) pauses anyone, the proxy asks every
 * live session of the database to open, log in and prepare its connections to the cluster it is about
 * to be routed to ({@link #prepare}); at the swap the session's handler takes them over
 * ({@link #take}) instead of connecting then. Connections not taken are closed when the session ends,
 * when the attempt is given up ({@link #discard}), when another switch is prepared, and at the latest
 * after their time to live (a worker that died between preparing and swapping leaves nothing open).
 * Event loop of the session only, but for {@link #prepare} and {@link #discardLater}, which hop onto it.
 */
public final class SwitchWarmUp {
    private final ClientSession session;
    private WarmConnections warm;

    SwitchWarmUp(ClientSession session) {
        this.session = session;
    }

    /**
     * Opens and prepares this session's connections to {@code cluster} (for the route of epoch
     * {@code epoch}); the future completes with null when they are ready or the session needs none (not
     * logged in, closed), else with why they cannot be opened. Not taken within {@code ttlMs}, they close.
     */
    public CompletableFuture<String> prepare(Cluster cluster, long epoch, long ttlMs) {
        CompletableFuture<String> done = new CompletableFuture<>();
        session.eventLoop().execute(() -> {
            discard();
            QueryHandler handler = session.handler();
            if (!session.isReady() || handler == null) {
                done.complete(null);
                return;
            }
            if (cluster.shardCount() > 1) {
                analyze(handler.namedStatements().values());
            }
            Credentials creds = session.serverCredentials(cluster.name());
            WarmConnections w = WarmConnections.open(session.eventLoop(), cluster, epoch, creds,
                    session.startupParameters(), session.proxy().options().maxMessage(), handler.settings(),
                    handler.namedStatements());
            warm = w;
            // a session that ends meanwhile needs nothing: its closing is no reason to give the switch up
            w.outcome().whenComplete((problem, error) -> done.complete(problem == null || session.isClosed() ? null
                    : "session " + session.processId() + " (user " + session.user() + "): " + problem));
            session.eventLoop().schedule(() -> {
                if (warm == w) {
                    discard();
                }
            }, ttlMs, TimeUnit.MILLISECONDS);
        });
        return done;
    }

    /**
     * Reads each named statement's SQL with the router's analyzer now (it caches by text), so that the
     * first Bind after the swap to several shards finds it read instead of parsing while clients wait.
     */
    private void analyze(java.util.Collection<PgFrame> parses) {
        for (PgFrame frame : parses) {
            if (FrontendMessage.decode(frame) instanceof FrontendMessage.Parse parse) {
                try {
                    session.proxy().analyzer().analyze(parse.sql());
                } catch (RuntimeException e) {
                    // a statement the router cannot read is refused at its first use, as without the warm-up
                }
            }
        }
    }

    /** The ready connections to {@code cluster}, taken over by the caller (ownership passes), or null. */
    public WarmConnections take(Cluster cluster) {
        WarmConnections w = warm;
        if (w == null) {
            return null;
        }
        warm = null;
        if (w.cluster().name().equals(cluster.name()) && w.isReady()) {
            return w;
        }
        w.close();
        return null;
    }

    /** Whether connections are open ahead of a switch (for tests and SHOW SERVERS). */
    public boolean holding() {
        return warm != null;
    }

    /** Closes the connections prepared and not taken. */
    public void discard() {
        if (warm != null) {
            warm.close();
            warm = null;
        }
    }

    /** {@link #discard} from any thread. */
    public void discardLater() {
        session.eventLoop().execute(this::discard);
    }
}
