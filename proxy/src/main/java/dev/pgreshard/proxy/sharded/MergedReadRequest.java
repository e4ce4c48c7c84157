package dev.pgreshard.proxy.sharded;

import dev.pgreshard.proxy.protocol.FrontendMessage;
import dev.pgreshard.proxy.sharded.plan.BoundParams;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the client sent for one merged read and so expects back: a simple Query (RowDescription, rows,
 * CommandComplete), or extended messages (ParseComplete, ParameterDescription and RowDescription for a
 * Describe of the statement, BindComplete, RowDescription for a Describe of the portal, rows,
 * CommandComplete), with the Bind's parameters and result formats.
 */
record MergedReadRequest(boolean simple, boolean parse, boolean describeStatement, boolean bind, boolean describePortal,
                         String sql, int[] declaredTypes, short[] paramFormats, byte[][] params, short[] resultFormats) {
    private static final Pattern PARAM = Pattern.compile("\\$(\\d+)");

    static MergedReadRequest of(Unit unit, String sql, ShardedStatements statements) {
        if (!unit.extended) {
            return new MergedReadRequest(true, false, false, false, true, sql, new int[0], new short[0], new byte[0][],
                    new short[0]);
        }
        FrontendMessage.Parse parse = unit.find(FrontendMessage.Parse.class);
        FrontendMessage.Bind bind = unit.find(FrontendMessage.Bind.class);
        boolean describeS = false;
        boolean describeP = false;
        for (Unit.Part p : unit.parts) {
            if (p.message() instanceof FrontendMessage.Describe d) {
                describeS |= d.kind() == 'S';
                describeP |= d.kind() == 'P';
            }
        }
        int[] declared = new int[0];
        ShardedStatements.Statement st = bind == null ? null : statements.get(bind.statement());
        if (st != null) {
            declared = ((FrontendMessage.Parse) FrontendMessage.decode(st.parse())).paramTypes();
        }
        return new MergedReadRequest(false, parse != null, describeS, bind != null, describeP, sql, declared,
                bind == null ? new short[0] : bind.paramFormats(), bind == null ? new byte[0][] : bind.params(),
                bind == null ? new short[0] : bind.resultFormats());
    }

    BoundParams boundParams() {
        return new BoundParams(new BindParameters(new FrontendMessage.Bind("", "", paramFormats, params, resultFormats)), declaredTypes);
    }

    /**
     * Parameter types for the shards' statement: declared ones; for those it does not use, text (any text value
     * reads as text) or bytea when sent in binary (any bytes read as bytea).
     */
    int[] shardParamTypes(String shardSql) {
        int[] types = new int[params.length];
        boolean[] used = new boolean[params.length + 1];
        Matcher m = PARAM.matcher(shardSql);
        while (m.find()) {
            int i = Integer.parseInt(m.group(1));
            if (i <= params.length) {
                used[i] = true;
            }
        }
        for (int i = 0; i < types.length; i++) {
            boolean binary = paramFormats.length == 1 ? paramFormats[0] == 1 : paramFormats.length > i && paramFormats[i] == 1;
            types[i] = i < declaredTypes.length && declaredTypes[i] != 0 ? declaredTypes[i] : used[i + 1] ? 0 : binary ? 17 : 25;
        }
        return types;
    }
}
