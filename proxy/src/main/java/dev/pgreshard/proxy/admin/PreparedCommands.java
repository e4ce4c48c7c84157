package dev.pgreshard.proxy.admin;

import dev.pgreshard.proxy.ProxyContext;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.twophase.PreparedRecovery;

import java.util.ArrayList;
import java.util.List;

/** SHOW PREPARED and RECOVER PREPARED: the in-doubt two-phase commits and their resolution by hand. */
final class PreparedCommands {
    private PreparedCommands() {
    }

    /** One row per prepared transaction of ours: shard, gid, age, the recorded decision (commit, abort or none). */
    static AdminCommands.Result show(ProxyContext proxy) {
        List<List<String>> rows = new ArrayList<>();
        for (PreparedRecovery.InDoubt d : recovery(proxy).inDoubt()) {
            rows.add(List.of(d.shard(), d.gid(), String.valueOf(Math.round(d.ageSeconds())), d.decision()));
        }
        return AdminCommands.Result.rows(List.of("shard", "gid", "age_s", "decision"), rows);
    }

    /** Runs one recovery pass now; one row per prepared transaction it saw and what it did. */
    static AdminCommands.Result recover(ProxyContext proxy) {
        PreparedRecovery.Report report = recovery(proxy).recover();
        List<List<String>> rows = new ArrayList<>();
        for (PreparedRecovery.Action a : report.actions()) {
            rows.add(List.of(a.shard(), a.gid(), String.valueOf(Math.round(a.ageSeconds())), a.decision(), a.result()));
        }
        for (String u : report.unreachable()) {
            rows.add(List.of(u, "", "", "", "unreachable: nothing resolved there, no decision removed"));
        }
        return new AdminCommands.Result(List.of("shard", "gid", "age_s", "decision", "result"), rows, "RECOVER");
    }

    private static PreparedRecovery recovery(ProxyContext proxy) {
        if (proxy.twoPhase().decisions() == null) {
            throw new AdminCommands.AdminError(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, "prepared-transaction recovery "
                    + "needs the control store ([control]), where the commit decisions are kept; this proxy runs without it "
                    + "(start it with `pgreshard proxy` or `pgreshard run`)");
        }
        return proxy.recovery();
    }
}
