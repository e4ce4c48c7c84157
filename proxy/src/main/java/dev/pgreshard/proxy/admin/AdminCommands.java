package dev.pgreshard.proxy.admin;

import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.proxy.ProxyContext;
import dev.pgreshard.proxy.ProxyControl;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.session.ClientSession;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The admin database's command language (PgDog vocabulary, docs/architecture.md §4). Proxy commands are
 * answered here; task commands go to the bound {@link TaskCommands} (the workflow client), or fail
 * with a clear error while none is bound. Arguments are words or double-quoted identifiers.
 */
final class AdminCommands {
    /** Rows to send (columns null: a command tag only). */
    record Result(List<String> columns, List<List<String>> rows, String tag) {
        static Result rows(List<String> columns, List<List<String>> rows) {
            return new Result(columns, rows, "SHOW");
        }
    }

    /** A command the operator got wrong or that cannot run now; the session goes on. */
    static final class AdminError extends RuntimeException {
        private final String sqlState;

        AdminError(String sqlState, String message) {
            super(message);
            this.sqlState = sqlState;
        }

        String sqlState() {
            return sqlState;
        }
    }

    private static final String KNOWN = "PAUSE [db], RESUME [db], SHOW CONFIG, SHOW DATABASES, SHOW ROUTING, SHOW CLIENTS, "
            + "SHOW SERVERS, RESHARD src dst pub [MANUAL_CUTOVER] [FENCE_SOURCE] [DRY_RUN], SHOW TASKS, STOP_TASK id, CUTOVER [id], ROLLBACK id, FINALIZE id, "
            + "SCHEMA_SYNC pre|post src dst pub, COPY_DATA src dst pub, SHOW REPLICATION, SHOW TABLE_COPIES, "
            + "SHOW PREPARED, RECOVER PREPARED, EXPLAIN ROUTE [ON db] sql";

    /** What RESHARD takes after its three names, in any order (PgDog-style bare keywords). */
    private static final List<String> RESHARD_OPTIONS = List.of("MANUAL_CUTOVER", "FENCE_SOURCE");

    private final ProxyContext proxy;
    private final ProxyControl control;

    AdminCommands(ProxyContext proxy) {
        this.proxy = proxy;
        this.control = new ProxyControl(proxy);
    }

    Result run(String statement) {
        if (RouteExplainer.matches(statement)) {
            return new RouteExplainer(proxy).explain(statement);
        }
        List<String> words = words(statement);
        String command = words.get(0).toUpperCase(Locale.ROOT);
        List<String> args = words.subList(1, words.size());
        String two = args.isEmpty() ? command : command + " " + args.get(0).toUpperCase(Locale.ROOT);
        switch (two) {
            case "SHOW CONFIG" -> {
                return showConfig();
            }
            case "SHOW DATABASES" -> {
                return showDatabases();
            }
            case "SHOW ROUTING" -> {
                List<List<String>> rows = new ArrayList<>();
                control.routing().forEach(r -> rows.add(List.of(r.database(), r.cluster(), String.valueOf(r.epoch()))));
                return Result.rows(List.of("database", "cluster", "epoch"), rows);
            }
            case "SHOW CLIENTS" -> {
                return showClients();
            }
            case "SHOW SERVERS" -> {
                List<List<String>> rows = new ArrayList<>();
                for (ClientSession s : proxy.sessions().sessions()) {
                    if (s.handler() != null) {
                        s.handler().backendDescriptions().forEach(d -> rows.add(List.of(String.valueOf(s.processId()), d)));
                    }
                }
                return Result.rows(List.of("client_pid", "server"), rows);
            }
            case "SHOW PREPARED" -> {
                arity(args, 1, 1, "SHOW PREPARED (no arguments)");
                return PreparedCommands.show(proxy);
            }
            case "RECOVER PREPARED" -> {
                arity(args, 1, 1, "RECOVER PREPARED (no arguments)");
                return PreparedCommands.recover(proxy);
            }
            case "SHOW TASKS" -> {
                return task("SHOW TASKS", t -> t.showTasks(), args, 1);
            }
            case "SHOW REPLICATION" -> {
                return task("SHOW REPLICATION", t -> t.showReplication(), args, 1);
            }
            case "SHOW TABLE_COPIES" -> {
                return task("SHOW TABLE_COPIES", t -> t.showTableCopies(), args, 1);
            }
            default -> {
                // below
            }
        }
        switch (command) {
            case "PAUSE" -> {
                arity(args, 0, 1, "PAUSE [database]");
                return ack(() -> control.pause(args.isEmpty() ? null : args.get(0)), "PAUSE");
            }
            case "RESUME" -> {
                arity(args, 0, 1, "RESUME [database]");
                return ack(() -> control.resume(args.isEmpty() ? null : args.get(0)), "RESUME");
            }
            case "SET" -> {
                return new Result(null, List.of(), "SET"); // drivers set session options at connect; nothing to keep
            }
            case "RESHARD" -> {
                arity(args, 3, 4 + RESHARD_OPTIONS.size(), "RESHARD source destination publication "
                        + "[MANUAL_CUTOVER] [FENCE_SOURCE] [DRY_RUN]");
                List<String> options = new ArrayList<>();
                boolean dryRun = false;
                for (String option : args.subList(3, args.size())) {
                    String o = option.toUpperCase(Locale.ROOT);
                    if (o.equals("DRY_RUN")) {
                        dryRun = true;
                        continue;
                    }
                    if (!RESHARD_OPTIONS.contains(o)) {
                        throw new AdminError(SqlState.SYNTAX_ERROR, "unknown RESHARD option '" + option
                                + "'; the options are " + String.join(", ", RESHARD_OPTIONS) + ", DRY_RUN");
                    }
                    options.add(o);
                }
                if (dryRun) {
                    return task("RESHARD", t -> t.plan(args.get(0), args.get(1), args.get(2)), args, 0);
                }
                return task("RESHARD", t -> t.reshard(args.get(0), args.get(1), args.get(2),
                        options.contains("MANUAL_CUTOVER"), options.contains("FENCE_SOURCE")), args, 0);
            }
            case "STOP_TASK" -> {
                arity(args, 1, 1, "STOP_TASK task_id");
                return task("STOP_TASK", t -> t.stopTask(args.get(0)), args, 0);
            }
            case "CUTOVER" -> {
                arity(args, 0, 1, "CUTOVER [task_id]");
                return task("CUTOVER", t -> t.cutover(args.isEmpty() ? null : args.get(0)), args, 0);
            }
            case "ROLLBACK" -> {
                arity(args, 1, 1, "ROLLBACK task_id");
                return task("ROLLBACK", t -> t.rollback(args.get(0)), args, 0);
            }
            case "FINALIZE" -> {
                arity(args, 1, 1, "FINALIZE task_id");
                return task("FINALIZE", t -> t.finalizeTask(args.get(0)), args, 0);
            }
            case "SCHEMA_SYNC" -> {
                arity(args, 4, 4, "SCHEMA_SYNC pre|post source destination publication");
                String phase = args.get(0).toLowerCase(Locale.ROOT);
                if (!phase.equals("pre") && !phase.equals("post")) {
                    throw new AdminError(SqlState.INVALID_PARAMETER_VALUE, "SCHEMA_SYNC phase must be pre or post, got '"
                            + args.get(0) + "'");
                }
                return task("SCHEMA_SYNC", t -> t.schemaSync(phase, args.get(1), args.get(2), args.get(3)), args, 0);
            }
            case "COPY_DATA" -> {
                arity(args, 3, 3, "COPY_DATA source destination publication");
                return task("COPY_DATA", t -> t.copyData(args.get(0), args.get(1), args.get(2)), args, 0);
            }
            default -> throw new AdminError(SqlState.SYNTAX_ERROR, "unknown admin command '" + statement.strip()
                    + "'; the admin database knows: " + KNOWN);
        }
    }

    private Result ack(Supplier<ProxyControl.PauseAck> action, String tag) {
        ProxyControl.PauseAck ack;
        try {
            ack = action.get();
        } catch (IllegalArgumentException e) {
            throw new AdminError(SqlState.INVALID_CATALOG_NAME, e.getMessage());
        }
        return new Result(List.of("databases", "paused", "in_flight", "waiting"),
                List.of(List.of(String.join(",", ack.databases()), String.valueOf(ack.paused()),
                        String.valueOf(ack.inFlight()), String.valueOf(ack.waiting()))), tag);
    }

    private Result task(String name, java.util.function.Function<TaskCommands, TaskCommands.Rows> call, List<String> args,
                        int extraWords) {
        if (extraWords > 0 && args.size() > extraWords) {
            throw new AdminError(SqlState.SYNTAX_ERROR, name + " takes no arguments");
        }
        TaskCommands tasks = proxy.taskCommands();
        if (tasks == null) {
            throw new AdminError(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, name + " needs the workflow client: this "
                    + "proxy was started without one (`pgreshard proxy` and `pgreshard run` bind it)");
        }
        TaskCommands.Rows rows;
        try {
            rows = call.apply(tasks);
        } catch (IllegalArgumentException | dev.pgreshard.core.config.ConfigException e) {
            // ConfigException: an unknown database or task, a publication that does not exist — the operator's input
            throw new AdminError(SqlState.INVALID_PARAMETER_VALUE, e.getMessage());
        } catch (IllegalStateException e) {
            throw new AdminError(SqlState.OBJECT_NOT_IN_PREREQUISITE_STATE, e.getMessage());
        }
        return new Result(rows.columns(), rows.rows(), name.startsWith("SHOW") ? "SHOW" : name);
    }

    private Result showConfig() {
        PgReshardConfig c = proxy.config();
        List<List<String>> rows = new ArrayList<>();
        var g = c.general();
        add(rows, "general.host", g.host());
        add(rows, "general.port", g.port());
        add(rows, "general.control_bind", g.controlBind());
        add(rows, "general.control_port", g.controlPort());
        add(rows, "general.cutover_pause_budget_ms", g.cutoverPauseBudgetMs());
        add(rows, "general.cutover_lag_threshold_bytes", g.cutoverLagThresholdBytes());
        add(rows, "general.copy_parallelism", g.copyParallelism());
        add(rows, "general.copy_split_threshold_bytes", g.copySplitThresholdBytes());
        add(rows, "general.pg_dump_path", g.pgDumpPath());
        add(rows, "general.tls_certificate", g.tlsCertificate());
        add(rows, "temporal.target", c.temporal().target());
        add(rows, "temporal.namespace", c.temporal().namespace());
        add(rows, "temporal.task_queue", c.temporal().taskQueue());
        if (c.control() != null) {
            add(rows, "control.url", c.control().url());
            add(rows, "control.user", c.control().user());
        }
        if (c.admin() != null) {
            add(rows, "admin.name", c.admin().name());
            add(rows, "admin.user", c.admin().user());
        }
        add(rows, "proxy.auth_method", proxy.options().authMethod().configName());
        add(rows, "proxy.max_message_bytes", proxy.options().maxMessage());
        add(rows, "users", c.users().size() + " entries (passwords not shown)");
        return Result.rows(List.of("key", "value"), rows);
    }

    private static void add(List<List<String>> rows, String key, Object value) {
        rows.add(List.of(key, String.valueOf(value)));
    }

    private Result showDatabases() {
        List<List<String>> rows = new ArrayList<>();
        for (RoutingTable.Route r : proxy.routing().routes().stream()
                .sorted((a, b) -> a.database().compareTo(b.database())).toList()) {
            for (Shard s : r.cluster().shards()) {
                rows.add(List.of(r.database(), r.cluster().name(), String.valueOf(r.epoch()), String.valueOf(s.index()),
                        s.host(), String.valueOf(s.port()), s.databaseName(),
                        String.valueOf(proxy.gate().isPaused(r.database()))));
            }
        }
        return Result.rows(List.of("database", "cluster", "epoch", "shard", "host", "port", "database_name", "paused"), rows);
    }

    private Result showClients() {
        List<List<String>> rows = new ArrayList<>();
        for (ClientSession s : proxy.sessions().sessions()) {
            String state = s.isHolding() ? "waiting" : s.isBusy() ? "active" : "idle";
            rows.add(List.of(String.valueOf(s.processId()), String.valueOf(s.user()), String.valueOf(s.database()),
                    s.remoteAddress(), state, Instant.ofEpochMilli(s.connectedAt()).toString()));
        }
        return Result.rows(List.of("pid", "user", "database", "address", "state", "connected_at"), rows);
    }

    private static void arity(List<String> args, int min, int max, String usage) {
        if (args.size() < min || args.size() > max) {
            throw new AdminError(SqlState.SYNTAX_ERROR, "wrong number of arguments; usage: " + usage);
        }
    }

    /**
     * Words of a command; "double quoted" words (identifiers) and 'single quoted' ones (string
     * literals, as in {@code RESHARD prod prod_sharded 'app_pub'}) keep their case and may contain
     * spaces; a quote inside is written twice. The quotes are not part of the word.
     */
    static List<String> words(String statement) {
        List<String> words = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quoted = 0;
        boolean any = false;
        String s = statement.strip();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (quoted != 0) {
                if (c == quoted && i + 1 < s.length() && s.charAt(i + 1) == quoted) {
                    cur.append(quoted);
                    i++;
                } else if (c == quoted) {
                    quoted = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quoted = c;
                any = true;
            } else if (Character.isWhitespace(c)) {
                if (any) {
                    words.add(cur.toString());
                    cur.setLength(0);
                    any = false;
                }
            } else {
                cur.append(c);
                any = true;
            }
        }
        if (quoted != 0) {
            throw new AdminError(SqlState.SYNTAX_ERROR, "unterminated quoted " + (quoted == '"' ? "identifier" : "string")
                    + " in: " + statement.strip());
        }
        if (any) {
            words.add(cur.toString());
        }
        return words;
    }

    /** Splits a query on semicolons outside double or single quotes; empty statements are dropped. */
    static List<String> splitStatements(String sql) {
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quoted = 0;
        for (char c : sql.toCharArray()) {
            if (quoted == 0 && (c == '"' || c == '\'')) {
                quoted = c;
            } else if (c == quoted) {
                quoted = 0; // a doubled quote closes and reopens: the same split
            }
            if (c == ';' && quoted == 0) {
                if (!cur.toString().isBlank()) {
                    out.add(cur.toString());
                }
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (!cur.toString().isBlank()) {
            out.add(cur.toString());
        }
        return out;
    }
}
