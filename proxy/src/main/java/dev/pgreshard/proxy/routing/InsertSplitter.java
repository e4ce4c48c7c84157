package dev.pgreshard.proxy.routing;

import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.insert.Insert;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Rewrites a multi-row INSERT ... VALUES into one INSERT per shard holding only that shard's rows. */
final class InsertSplitter {
    private InsertSplitter() {
    }

    static Map<Integer, String> split(String sql, Map<Integer, List<Integer>> rowsByShard) {
        Map<Integer, String> out = new LinkedHashMap<>();
        for (Map.Entry<Integer, List<Integer>> e : rowsByShard.entrySet()) {
            Insert insert = parse(sql); // a fresh tree per shard: the cached one stays untouched
            List<ExpressionList<?>> rows = ShardRouter.rows(insert.getValues().getExpressions());
            ExpressionList<Expression> kept = new ExpressionList<>();
            for (int r : e.getValue()) {
                kept.add((Expression) rows.get(r));
            }
            insert.getValues().setExpressions(kept);
            out.put(e.getKey(), insert.toString());
        }
        return out;
    }

    private static Insert parse(String sql) {
        try {
            return (Insert) CCJSqlParserUtil.parse(sql);
        } catch (JSQLParserException e) {
            throw new IllegalStateException("an INSERT parsed once no longer parses", e);
        }
    }
}
