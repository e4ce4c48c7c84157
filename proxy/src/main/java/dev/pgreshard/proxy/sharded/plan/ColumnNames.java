package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.proxy.routing.Identifiers;
import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.CaseExpression;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;

import java.util.Locale;
import java.util.Map;

/**
 * The name PostgreSQL gives an unaliased select-list column (its parser's FigureColname): a column
 * reference is named after the column, a function call after the function, a cast after its argument
 * when that has a name and else after the type, CASE after its ELSE branch or "case", anything else
 * "?column?". The final statement aliases every column with this name, so the client sees what the
 * single database would have called it.
 */
final class ColumnNames {
    private static final Map<String, String> TYPE_NAMES = Map.ofEntries(
            Map.entry("int", "int4"), Map.entry("integer", "int4"), Map.entry("smallint", "int2"),
            Map.entry("bigint", "int8"), Map.entry("real", "float4"), Map.entry("double precision", "float8"),
            Map.entry("float", "float8"), Map.entry("boolean", "bool"), Map.entry("decimal", "numeric"),
            Map.entry("dec", "numeric"), Map.entry("character varying", "varchar"), Map.entry("character", "bpchar"),
            Map.entry("char", "bpchar"), Map.entry("timestamp with time zone", "timestamptz"),
            Map.entry("timestamp without time zone", "timestamp"), Map.entry("time without time zone", "time"),
            Map.entry("time with time zone", "timetz"));

    private ColumnNames() {
    }

    static String of(Expression e) {
        String n = figure(e);
        return n == null ? "?column?" : n;
    }

    /** The name, or null when PostgreSQL would fall back (strength 0/1 cases are resolved by the caller). */
    private static String figure(Expression e) {
        if (e instanceof ParenthesedExpressionList<?> p && p.size() == 1) {
            return figure(p.get(0));
        }
        if (e instanceof Column c) {
            return Identifiers.columnName(c.getColumnName());
        }
        if (e instanceof Function f) {
            return functionName(f.getName());
        }
        if (e instanceof AnalyticExpression a) {
            return functionName(a.getName());
        }
        if (e instanceof CastExpression c) {
            String inner = figure(c.getLeftExpression());
            if (inner != null && !inner.equals("case")) {
                return inner;
            }
            String t = c.getColDataType().getDataType().toLowerCase(Locale.ROOT).strip();
            t = t.replaceAll("\\s*\\(.*$", "");
            if (t.contains(".")) {
                t = t.substring(t.lastIndexOf('.') + 1);
            }
            return TYPE_NAMES.getOrDefault(t, Identifiers.columnName(t));
        }
        if (e instanceof net.sf.jsqlparser.expression.ExtractExpression) {
            return "extract";
        }
        if (e instanceof CaseExpression c) {
            String inner = c.getElseExpression() == null ? null : figure(c.getElseExpression());
            return inner != null && !inner.equals("case") ? inner : "case";
        }
        return null;
    }

    private static String functionName(String name) {
        String last = name.contains(".") ? name.substring(name.lastIndexOf('.') + 1) : name;
        return Identifiers.columnName(last);
    }
}
