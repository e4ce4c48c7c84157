package dev.pgreshard.cli;

import dev.pgreshard.activities.control.ControlStore;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.proxy.twophase.PreparedRecovery;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/**
 * {@code pgreshard recover-prepared}: one pass of the proxies' prepared-transaction recovery, by hand
 * (e.g. after every proxy was stopped with transactions in doubt): commits where the control store
 * recorded a commit decision, rolls back the rest. {@code --list} only shows them (SHOW PREPARED).
 */
@Command(name = "recover-prepared", description = "Resolve pgreshard's prepared transactions left on the shards: commit "
        + "those with a recorded commit decision, roll back the others (older than "
        + "5 s); --list only shows them.")
public class RecoverPreparedCommand implements Runnable {
    @Mixin
    ConfigOptions config;

    @Option(names = "--list", description = "only list the prepared transactions (shard, gid, age, decision)")
    boolean list;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        PgReshardConfig cfg = config.load();
        PrintWriter out = spec.commandLine().getOut();
        try (ControlStore store = ControlStore.open(cfg.requireControl())) {
            ControlStoreDecisions decisions = new ControlStoreDecisions(store);
            PreparedRecovery recovery = new PreparedRecovery(cfg, () -> decisions, PreparedRecovery.MIN_AGE, left -> { });
            if (list) {
                out.println("shard\tgid\tage_s\tdecision");
                recovery.inDoubt().forEach(d -> out.println(d.shard() + "\t" + d.gid() + "\t" + Math.round(d.ageSeconds())
                        + "\t" + d.decision()));
            } else {
                PreparedRecovery.Report report = recovery.recover();
                out.println("shard\tgid\tage_s\tdecision\tresult");
                report.actions().forEach(a -> out.println(a.shard() + "\t" + a.gid() + "\t" + Math.round(a.ageSeconds())
                        + "\t" + a.decision() + "\t" + a.result()));
                report.unreachable().forEach(u -> out.println("unreachable: " + u));
                out.println(report.actions().size() + " prepared transaction(s) seen, " + report.forgotten()
                        + " decision(s) removed");
                if (!report.unreachable().isEmpty()) {
                    out.flush();
                    throw new IllegalStateException(report.unreachable().size() + " shard(s) could not be reached; "
                            + "run recover-prepared again once they are up");
                }
            }
        }
        out.flush();
    }
}
