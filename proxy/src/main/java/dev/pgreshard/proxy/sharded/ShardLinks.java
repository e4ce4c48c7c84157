package dev.pgreshard.proxy.sharded;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.backend.BackendConnection;
import dev.pgreshard.proxy.backend.BackendListener;
import dev.pgreshard.proxy.backend.CancelSender;
import dev.pgreshard.proxy.backend.WarmConnections;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.session.ClientSession;
import dev.pgreshard.proxy.session.SessionSettings;
import org.slf4j.Logger;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * A sharded session's connections to the shards of its current cluster, opened on first use (the
 * client's SET statements are replayed on each new one) and answered through each link's queue of
 * response sinks. Shard 0 is opened at login: its parameters are what the client sees.
 */
final class ShardLinks implements BackendListener {
    private final ClientSession session;
    private final SessionSettings settings;
    private final Logger log;
    private Cluster cluster;
    private ShardLink[] links = new ShardLink[0];
    private boolean loggedIn;

    ShardLinks(ClientSession session, SessionSettings settings, Logger log) {
        this.session = session;
        this.settings = settings;
        this.log = log;
    }

    /**
     * Serves {@code next} from now on: the old links are retired; the connections prepared ahead of the
     * switch ({@code warm}, may be null) become the links, else shard 0 is opened. {@code statements}
     * (name → the client's current Parse frame) tells which statements the warm connections prepared
     * are still the client's: the others are closed there (re-prepared when used).
     */
    void use(Cluster next, WarmConnections warm, Map<String, PgFrame> statements) {
        retireAll();
        cluster = next;
        links = new ShardLink[next.shardCount()];
        if (warm == null) {
            get(0);
            return;
        }
        boolean sameSettings = warm.settings().equals(settings.all());
        for (int i = 0; i < links.length; i++) {
            ShardLink l = new ShardLink(i, warm.adopt(i, this));
            links[i] = l;
            if (!sameSettings) {
                l.send(ResponseSink.internal("resetting settings", log), FrontendMessages.query(UNPOOLED, "RESET ALL"));
                for (String set : settings.all()) {
                    l.send(ResponseSink.internal("replaying " + set, log), FrontendMessages.query(UNPOOLED, set));
                }
            }
            warm.preparedOn(i).forEach((name, parse) -> {
                if (statements.get(name) == parse) {
                    l.prepared.put(name, parse);
                } else {
                    l.send(ResponseSink.internal("closing " + name, log), FrontendMessages.closeStatement(UNPOOLED, name),
                            FrontendMessages.sync(UNPOOLED));
                }
            });
        }
    }

    /** For a handler that replaces another mid-session: the client is logged in already. */
    void alreadyLoggedIn() {
        loggedIn = true;
    }

    /** The link to {@code shard}, connecting it if needed. */
    ShardLink get(int shard) {
        ShardLink l = links[shard];
        if (l == null) {
            Credentials creds = session.serverCredentials(cluster.name());
            BackendConnection b = BackendConnection.open(session.eventLoop(), cluster.shard(shard), creds,
                    session.startupParameters(), session.proxy().options().maxMessage(), this);
            l = new ShardLink(shard, b);
            links[shard] = l;
            for (String set : settings.all()) {
                l.send(ResponseSink.internal("replaying " + set, log), FrontendMessages.query(UNPOOLED, set));
            }
        }
        return l;
    }

    /** Every slot, null where no connection was opened (for code that walks the open ones). */
    ShardLink[] all() {
        return links;
    }

    int[] openShards() {
        List<Integer> open = new ArrayList<>();
        for (ShardLink l : links) {
            if (l != null) {
                open.add(l.shard);
            }
        }
        return open.stream().mapToInt(Integer::intValue).toArray();
    }

    void flush() {
        for (ShardLink l : links) {
            if (l != null) {
                l.backend.flush();
            }
        }
    }

    /** A slow client slows the servers' answers down instead of filling the proxy's memory. */
    void setAutoRead(boolean autoRead) {
        for (ShardLink l : links) {
            if (l != null) {
                l.backend.setAutoRead(autoRead);
            }
        }
    }

    void cancel() {
        for (ShardLink l : links) {
            if (l != null && l.busy() && l.backend.isReady()) {
                CancelSender.send(session.eventLoop(), l.backend.shard(), l.backend.processId(), l.backend.secretKey());
            }
        }
    }

    List<String> describe() {
        List<String> out = new ArrayList<>();
        for (ShardLink l : links) {
            if (l != null) {
                out.add(l.backend.shard().describe() + " pid " + l.backend.processId());
            }
        }
        return out;
    }

    void closeAll() {
        for (ShardLink l : links) {
            if (l != null) {
                l.backend.close();
            }
        }
    }

    /** The links of a cluster the session moved away from, at a transaction boundary (BackendConnection#retire). */
    void retireAll() {
        for (ShardLink l : links) {
            if (l != null) {
                l.backend.retire();
            }
        }
    }

    @Override
    public void onBackendReady(BackendConnection b) {
        if (!loggedIn && links.length > 0 && links[0] != null && links[0].backend == b) {
            loggedIn = true;
            session.loginComplete(b.parameters(), b.processId());
        }
    }

    @Override
    public void onBackendMessage(BackendConnection b, PgFrame frame) {
        ShardLink l = linkOf(b);
        if (l == null) {
            frame.release();
            return;
        }
        l.onMessage(frame);
    }

    @Override
    public void onBackendEnded(BackendConnection b, PgFrame fatal) {
        if (linkOf(b) == null) {
            fatal.release();
            return;
        }
        log.info("session {}: {} ended the session: {}", session.processId(), b.shard().describe(),
                dev.pgreshard.proxy.protocol.ServerMessages.describeError(fatal));
        session.endWith(fatal.frame());
    }

    @Override
    public void onBackendReadComplete(BackendConnection b) {
        session.backendReadComplete();
    }

    @Override
    public void onBackendWritabilityChanged(BackendConnection b, boolean writable) {
        session.backendWritable(writable);
    }

    @Override
    public void onBackendFailure(BackendConnection b, String sqlState, String message) {
        if (linkOf(b) == null) {
            return; // a connection of a cluster the session has left
        }
        log.warn("session {}: {}", session.processId(), message);
        session.proxy().metrics().error(dev.pgreshard.proxy.ProxyMetrics.ErrorKind.BACKEND);
        session.fatal(loggedIn ? SqlState.CONNECTION_FAILURE : sqlState, message);
    }

    private ShardLink linkOf(BackendConnection b) {
        for (ShardLink l : links) {
            if (l != null && l.backend == b) {
                return l;
            }
        }
        return null;
    }
}
