package dev.pgreshard.proxy.backend;

import dev.pgreshard.core.config.Credentials;
import dev.pgreshard.core.topology.Cluster;
import dev.pgreshard.proxy.protocol.FrontendMessages;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.protocol.ServerMessages;
import io.netty.channel.EventLoop;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static dev.pgreshard.proxy.protocol.FrontendMessages.UNPOOLED;

/**
 * One session's server connections to every shard of the cluster a cutover (or rollback) is about to
 * route its database to, opened before the pause: logged in with the session's own server login, its
 * SET statements replayed and its named statements prepared, so that at the swap the session moves to
 * ready connections and its first transaction there costs no login and no Parse.
 * <p>
 * Each shard gets, after the login, one Query per SET statement and one Parse + Sync per named
 * statement (a Sync each, so a statement the new cluster refuses does not take the others with it);
 * {@link #outcome} completes when every answer came back (null) or a connection failed (the reason).
 * The handler that serves the new route takes the connections over ({@link #adopt}) and re-sends only
 * what changed since: statements parsed again or added ({@link #preparedOn} tells which Parse frame
 * each shard prepared a name from), settings changed (then RESET ALL and all of them). Connections not
 * taken are closed by {@link #close}. Event loop of the owning session only, but for {@link #outcome}.
 */
public final class WarmConnections implements BackendListener {
    private static final Logger LOG = LoggerFactory.getLogger(WarmConnections.class);

    /** What one ReadyForQuery answers: a SET replayed (name null) or a statement prepared. */
    private record Pending(String statement, PgFrame parse) {
    }

    private final Cluster cluster;
    private final long epoch;
    private final List<String> settings;
    private final BackendConnection[] connections;
    private final List<ArrayDeque<Pending>> pending;
    private final List<Map<String, PgFrame>> prepared;
    /** Per shard: an error answered the request now at the head of its queue. */
    private final boolean[] failedHead;
    private final CompletableFuture<String> outcome = new CompletableFuture<>();
    private final boolean[] adopted;
    private boolean closed;

    private WarmConnections(Cluster cluster, long epoch, List<String> settings) {
        this.cluster = cluster;
        this.epoch = epoch;
        this.settings = List.copyOf(settings);
        int n = cluster.shardCount();
        this.connections = new BackendConnection[n];
        this.pending = new java.util.ArrayList<>(n);
        this.prepared = new java.util.ArrayList<>(n);
        this.failedHead = new boolean[n];
        this.adopted = new boolean[n];
        for (int i = 0; i < n; i++) {
            pending.add(new ArrayDeque<>());
            prepared.add(new HashMap<>());
        }
    }

    /**
     * Opens a connection to every shard of {@code cluster} on {@code loop} as {@code credentials}, replays
     * {@code settings} and prepares {@code statements} (name → the client's Parse frame; the frames are
     * read now and kept only to be compared at the switch).
     */
    public static WarmConnections open(EventLoop loop, Cluster cluster, long epoch, Credentials credentials,
                                       Map<String, String> clientParameters, int maxMessage, List<String> settings,
                                       Map<String, PgFrame> statements) {
        WarmConnections w = new WarmConnections(cluster, epoch, settings);
        for (int i = 0; i < cluster.shardCount(); i++) {
            BackendConnection b = BackendConnection.open(loop, cluster.shard(i), credentials, clientParameters, maxMessage, w);
            w.connections[i] = b;
            for (String set : w.settings) {
                b.write(FrontendMessages.query(UNPOOLED, set));
                w.pending.get(i).add(new Pending(null, null));
            }
            for (Map.Entry<String, PgFrame> st : statements.entrySet()) {
                b.write(st.getValue().frame().retainedDuplicate());
                b.write(FrontendMessages.sync(UNPOOLED));
                w.pending.get(i).add(new Pending(st.getKey(), st.getValue()));
            }
        }
        w.completeIfDone();
        return w;
    }

    /** Completes with null when every connection is ready and prepared, else with why not. */
    public CompletableFuture<String> outcome() {
        return outcome;
    }

    public Cluster cluster() {
        return cluster;
    }

    public long epoch() {
        return epoch;
    }

    /** Ready to be taken over: every connection logged in, every request answered, none failed since. */
    public boolean isReady() {
        if (closed || !outcome.isDone() || outcome.join() != null) {
            return false;
        }
        for (BackendConnection b : connections) {
            if (b.isClosed()) {
                return false;
            }
        }
        return true;
    }

    /** The SET statements replayed on every connection, in order. */
    public List<String> settings() {
        return settings;
    }

    /** Statement name → the Parse frame that {@code shard}'s connection prepared it from. */
    public Map<String, PgFrame> preparedOn(int shard) {
        return prepared.get(shard);
    }

    /** Hands {@code shard}'s connection to {@code listener} (the handler of the new route) and returns it. */
    public BackendConnection adopt(int shard, BackendListener listener) {
        adopted[shard] = true;
        connections[shard].listenTo(listener);
        return connections[shard];
    }

    public int size() {
        return connections.length;
    }

    /** Closes every connection not taken over. */
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (int i = 0; i < connections.length; i++) {
            if (!adopted[i]) {
                connections[i].close();
            }
        }
        outcome.complete("closed before it was ready");
    }

    private int shardOf(BackendConnection b) {
        for (int i = 0; i < connections.length; i++) {
            if (connections[i] == b) {
                return i;
            }
        }
        return -1;
    }

    private void completeIfDone() {
        for (ArrayDeque<Pending> p : pending) {
            if (!p.isEmpty()) {
                return;
            }
        }
        for (BackendConnection b : connections) {
            if (!b.isReady()) {
                return;
            }
        }
        outcome.complete(null);
    }

    // ---- BackendListener (until taken over)

    @Override
    public void onBackendReady(BackendConnection b) {
        completeIfDone();
    }

    @Override
    public void onBackendMessage(BackendConnection b, PgFrame frame) {
        try {
            int shard = shardOf(b);
            if (shard < 0) {
                return;
            }
            switch (frame.typeChar()) {
                case 'E' -> {
                    failedHead[shard] = true;
                    Pending head = pending.get(shard).peek();
                    LOG.warn("preparing a connection to {} ahead of the switch: {} failed: {}", b.shard().describe(),
                            head == null ? "a request" : head.statement() == null ? "a SET" : "statement " + head.statement(),
                            ServerMessages.describeError(frame));
                }
                case 'Z' -> {
                    Pending head = pending.get(shard).poll();
                    if (head != null && head.statement() != null && !failedHead[shard]) {
                        prepared.get(shard).put(head.statement(), head.parse());
                    }
                    failedHead[shard] = false;
                    completeIfDone();
                }
                default -> {
                    // ParseComplete, CommandComplete, ParameterStatus, notices: nothing to keep
                }
            }
        } finally {
            frame.release();
        }
    }

    @Override
    public void onBackendEnded(BackendConnection b, PgFrame fatal) {
        String reason = b.shard().describe() + " ended the connection: " + ServerMessages.describeError(fatal);
        fatal.release();
        fail(reason);
    }

    @Override
    public void onBackendReadComplete(BackendConnection b) {
    }

    @Override
    public void onBackendFailure(BackendConnection b, String sqlState, String message) {
        fail(message);
    }

    private void fail(String reason) {
        outcome.complete(reason);
        close();
    }
}
