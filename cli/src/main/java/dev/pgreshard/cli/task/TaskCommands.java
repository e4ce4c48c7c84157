package dev.pgreshard.cli.task;

import dev.pgreshard.cli.TaskArguments;
import dev.pgreshard.activities.control.TaskRow;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Topology;
import dev.pgreshard.workflows.reshard.ReshardStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;

/** The task commands of docs/architecture.md §4: reshard, tasks, status, stop, cutover, rollback, finalize. */
public final class TaskCommands {
    private TaskCommands() {
    }

    abstract static class WithService extends TemporalCommand {
        @Override
        public final void run() {
            validate(config()); // before Temporal is reached: bad input is named even with no server up
            try (TaskService tasks = new TaskService(config(), client())) {
                run(tasks);
            }
        }

        void validate(PgReshardConfig config) {
        }

        abstract void run(TaskService tasks);
    }

    @Command(name = "reshard", mixinStandardHelpOptions = true, description = "Start a reshard task; prints its id as the last line.")
    public static class Reshard extends WithService {
        @Mixin
        TaskArguments args;
        @Option(names = "--manual-cutover", description = "wait for `pgreshard cutover TASK` instead of cutting over "
                + "automatically once replication lag is low")
        boolean manualCutover;
        @Option(names = "--fence-source", description = "at cutover, revoke INSERT/UPDATE/DELETE/TRUNCATE on the moved "
                + "tables from the source's application roles (users.toml users other than the one pgreshard uses); "
                + "a rollback grants them back")
        boolean fenceSource;

        @Override
        void validate(PgReshardConfig config) {
            Topology topology = Topology.of(config);
            topology.cluster(args.source);
            topology.cluster(args.destination);
        }

        @Override
        void run(TaskService tasks) {
            String id = tasks.reshard(args.source, args.destination, args.publication, manualCutover, fenceSource);
            out().println(id);
            out().flush();
        }
    }

    @Command(name = "tasks", mixinStandardHelpOptions = true, description = "List reshard tasks.")
    public static class Tasks extends WithService {
        @Override
        void run(TaskService tasks) {
            List<TaskRow> rows = tasks.tasks();
            PrintWriter out = out();
            out.printf("%-36s %-16s %-16s %-20s %-20s %-20s %s%n", "ID", "SOURCE", "DESTINATION", "PHASE", "STATE",
                    "STARTED", "LAG");
            for (TaskRow r : rows) {
                out.printf("%-36s %-16s %-16s %-20s %-20s %-20s %s%n", r.taskId(), r.source(), r.destination(), r.phase(),
                        r.state(), r.createdAt().toString().substring(0, 19).replace('T', ' '), StatusPrinter.bytes(r.lagBytes()));
            }
            out.flush();
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "Show a task: phase, copy progress per table, lag, cutover attempts.")
    public static class Status extends WithService {
        @Parameters(index = "0", paramLabel = "TASK")
        String taskId;

        @Override
        void run(TaskService tasks) {
            ReshardStatus s = tasks.status(taskId);
            StatusPrinter.print(s, tasks.traffic(s), out());
            StatusPrinter.printCopies(tasks.copiesInFlight(taskId), out());
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "STOP_TASK: cancel a task; its cleanup drops the slots and publications it "
            + "created and resumes paused proxies.")
    public static class Stop extends WithService {
        @Parameters(index = "0", paramLabel = "TASK")
        String taskId;
        @Option(names = "--wait", defaultValue = "120", paramLabel = "SECONDS",
                description = "how long to wait for the cleanup (default: ${DEFAULT-VALUE})")
        long waitSeconds;

        @Override
        void run(TaskService tasks) {
            Optional<ReshardStatus> after = tasks.stop(taskId, waitSeconds);
            if (after.isEmpty()) {
                throw new IllegalStateException("task " + taskId + " was asked to stop but has not finished its cleanup "
                        + "after " + waitSeconds + " s; is a worker running? `pgreshard status " + taskId + "` shows it");
            }
            StatusPrinter.print(after.get(), tasks.traffic(after.get()), out());
        }
    }

    abstract static class Signal extends WithService {
        @Parameters(index = "0", paramLabel = "TASK")
        String taskId;

        abstract String signal();

        @Override
        void run(TaskService tasks) {
            tasks.signal(taskId, signal());
            out().println(signal() + " signalled to " + taskId + "; `pgreshard status " + taskId + "` follows it");
            out().flush();
        }
    }

    @Command(name = "cutover", mixinStandardHelpOptions = true, description = "Cut a task over now (manual cutover, or without waiting for low lag).")
    public static class Cutover extends Signal {
        @Override
        String signal() {
            return "cutover";
        }
    }

    @Command(name = "rollback", mixinStandardHelpOptions = true, description = "After a cutover: move traffic back to the source.")
    public static class Rollback extends Signal {
        @Override
        String signal() {
            return "rollback";
        }
    }

    @Command(name = "finalize", mixinStandardHelpOptions = true, description = "After a cutover: end reverse replication; the destination stays. "
            + "Refused while reverse replication is failing or has not applied what the destination committed.")
    public static class Finalize extends WithService {
        @Parameters(index = "0", paramLabel = "TASK")
        String taskId;
        @Option(names = "--force", description = "finalize even though reverse replication is failing or behind: the "
                + "changes the source has not applied are dropped (the status says how many bytes)")
        boolean force;
        @Option(names = "--wait", defaultValue = "120", paramLabel = "SECONDS",
                description = "how long to wait for the task to finish (default: ${DEFAULT-VALUE})")
        long waitSeconds;

        @Override
        void run(TaskService tasks) {
            Optional<ReshardStatus> after = tasks.finalizeTask(taskId, force, waitSeconds);
            if (after.isEmpty()) {
                throw new IllegalStateException("finalize was signalled to " + taskId + " but the task has not finished "
                        + "after " + waitSeconds + " s; `pgreshard status " + taskId + "` follows it");
            }
            StatusPrinter.print(after.get(), out());
        }
    }
}
