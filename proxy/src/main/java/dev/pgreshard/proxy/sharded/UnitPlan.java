package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.protocol.PgFrame;
import dev.pgreshard.proxy.routing.BindValues;
import dev.pgreshard.proxy.routing.Decision;
import dev.pgreshard.proxy.routing.ParsedSql;
import dev.pgreshard.proxy.routing.RoutingTable;
import dev.pgreshard.proxy.routing.ShardRouter;
import dev.pgreshard.proxy.routing.SqlAnalyzer;
import dev.pgreshard.proxy.routing.StatementKind;
import dev.pgreshard.proxy.protocol.SqlState;
import dev.pgreshard.proxy.sharded.plan.BoundParams;
import dev.pgreshard.proxy.sharded.plan.KeylessInsert;
import dev.pgreshard.proxy.sharded.plan.ReadPlan;
import dev.pgreshard.proxy.sharded.plan.ReadPlanner;

/**
 * Where a {@link Unit} goes, decided before anything is sent (so that units bound for the same shard
 * can be sent together under one Sync). Planning records the unit's Parse, which is harmless to repeat.
 */
record UnitPlan(Kind kind, Decision decision, String sql, ParsedSql parsed, int[] targets, String sqlState, String error,
                ReadPlan readPlan, KeylessInsert keyless, TempTables.Use temp) {
    /** KEYLESS_INSERT: an INSERT that leaves the shard key to its default ({@link KeylessInsert}, {@link KeyDraw}). */
    enum Kind { CLOSE, REFUSE, PORTAL, DESCRIBE, STATEMENT, KEYLESS_INSERT }

    static UnitPlan of(Unit unit, ShardedStatements statements, SqlAnalyzer analyzer, RoutePlans plans,
                       RoutingTable.Route route, TempTables temps) {
        FrontendMessage.Close close = unit.find(FrontendMessage.Close.class);
        if (close != null) {
            return new UnitPlan(Kind.CLOSE, null, null, null, null, null, null, null, null, null);
        }
        FrontendMessage.Query query = unit.find(FrontendMessage.Query.class);
        FrontendMessage.Parse parse = unit.find(FrontendMessage.Parse.class);
        FrontendMessage.Bind bind = unit.find(FrontendMessage.Bind.class);
        FrontendMessage.Execute exec = unit.find(FrontendMessage.Execute.class);
        if (parse != null) {
            PgFrame parseFrame = unit.parts.stream().filter(p -> p.message() == parse).findFirst().orElseThrow().frame();
            statements.onParse(parse, parseFrame);
        }
        String sql;
        BindValues params = BindValues.NONE;
        ShardedStatements.Statement st = null;
        if (query != null) {
            sql = query.sql();
        } else {
            String name = bind != null ? bind.statement() : parse != null ? parse.statement() : null;
            st = name == null ? null : statements.get(name);
            if (exec != null && bind == null) {
                int[] targets = statements.portal(exec.portal());
                return targets == null
                        ? refuse("34000", "portal \"" + exec.portal() + "\" does not exist")
                        : new UnitPlan(Kind.PORTAL, null, null, null, targets, null, null, null, null, null);
            }
            if (name != null && st == null) {
                return refuse("26000", "prepared statement \"" + name + "\" does not exist");
            }
            if (exec == null) {
                // a statement naming a temporary table can only be described where the table is
                boolean temp = st != null && temps.use(route.cluster(), analyzer.analyze(st.sql())) != null;
                return new UnitPlan(Kind.DESCRIBE, null, null, null, temp ? new int[] {TempTables.HOME} : null, null, null, null,
                        null, null);
            }
            sql = st == null ? "" : st.sql();
            params = new BindParameters(bind);
        }
        ParsedSql parsed = analyzer.analyze(sql);
        TempTables.Use temp = temps.use(route.cluster(), parsed);
        if (temp != null) {
            if (temp.refusal() != null) {
                return refuse(SqlState.FEATURE_NOT_SUPPORTED, temp.refusal());
            }
            StatementKind k = parsed.kind() == StatementKind.UNKNOWN ? StatementKind.ALL_SHARDS_WRITE : parsed.kind();
            boolean write = k != StatementKind.READ && k != StatementKind.COPY_OUT;
            Decision home = new Decision(k, new int[] {TempTables.HOME}, false, write, true, null, null, null);
            return new UnitPlan(Kind.STATEMENT, home, sql, parsed, home.shards(), null, null, null, null, temp);
        }
        RoutePlans.Entry planned = plans.get(route.cluster(), parsed);
        KeylessInsert keyless = planned.keyless();
        if (keyless != null) {
            return keyless.refusal() != null ? refuse(SqlState.FEATURE_NOT_SUPPORTED, keyless.refusal())
                    : new UnitPlan(Kind.KEYLESS_INSERT, null, sql, parsed, null, null, null, null, keyless, null);
        }
        Decision d = planned.route() != null ? planned.route().route(params) : ShardRouter.route(route.cluster(), parsed, params);
        if (d.refused()) {
            return refuse(d.sqlState(), d.error());
        }
        ReadPlan read = null;
        if (d.kind() == StatementKind.READ) {
            int[] declared = st == null ? new int[0] : ((FrontendMessage.Parse) FrontendMessage.decode(st.parse())).paramTypes();
            read = ReadPlanner.forRead(route.cluster(), parsed, d, new BoundParams(params, declared));
            if (read != null && read.refused()) {
                return refuse(SqlState.FEATURE_NOT_SUPPORTED, read.refusal());
            }
        }
        return new UnitPlan(Kind.STATEMENT, d, sql, parsed, d.shards(), null, null, read, null, null);
    }


    private static UnitPlan refuse(String sqlState, String error) {
        return new UnitPlan(Kind.REFUSE, null, null, null, null, sqlState, error, null, null, null);
    }

    /** A plain data statement (not transaction control, session, COPY) bound for exactly one shard. */
    boolean singleShardData() {
        if (kind != Kind.STATEMENT || decision.rewritten() != null) {
            return false;
        }
        StatementKind k = decision.kind();
        boolean data = k == StatementKind.READ || k == StatementKind.WRITE || k == StatementKind.ALL_SHARDS_WRITE
                || k == StatementKind.ANY_SHARD;
        return data && (decision.anyShard() || decision.shards().length == 1);
    }
}
