package dev.pgreshard.proxy.session;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** The live client sessions of a proxy, for in-flight counts, SHOW CLIENTS and cancel requests. */
public final class SessionRegistry {
    private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();
    private final ConcurrentHashMap<Integer, ClientSession> byProcessId = new ConcurrentHashMap<>();

    /** Reserves a process id for a session that logged in: random and unique among the live ones. */
    int claimProcessId(ClientSession s, Random random) {
        int pid;
        do {
            pid = random.nextInt(Integer.MAX_VALUE - 1) + 1;
        } while (byProcessId.putIfAbsent(pid, s) != null);
        return pid;
    }

    /** Moves {@code s} from process id {@code current} to {@code wanted} when no live session holds it; returns its id. */
    int reclaimProcessId(ClientSession s, int current, int wanted) {
        if (wanted <= 0 || wanted == current || byProcessId.putIfAbsent(wanted, s) != null) {
            return current;
        }
        byProcessId.remove(current, s);
        return wanted;
    }

    /** Lists a session whose process id and key are set. */
    void add(ClientSession s) {
        sessions.add(s);
        byProcessId.put(s.processId(), s);
    }

    void remove(ClientSession s) {
        sessions.remove(s);
        byProcessId.remove(s.processId(), s);
    }

    ClientSession byProcessId(int pid) {
        return byProcessId.get(pid);
    }

    /** Sessions of {@code database} with a transaction or request in flight (not parked at the gate). */
    public int inFlight(String database) {
        int n = 0;
        for (ClientSession s : sessions) {
            if (database.equals(s.database()) && s.isBusy()) {
                n++;
            }
        }
        return n;
    }

    /** {@link ClientSession#describeBusy} of each busy session of {@code database}. */
    public List<String> describeBusy(String database) {
        List<String> out = new ArrayList<>();
        for (ClientSession s : sessions) {
            if (database.equals(s.database()) && s.isBusy()) {
                out.add(s.describeBusy());
            }
        }
        return out;
    }

    public List<ClientSession> sessions() {
        return new ArrayList<>(sessions);
    }
}
