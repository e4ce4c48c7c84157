package dev.pgreshard.proxy.routing;

import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.schema.Column;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Finds shard-key values in a WHERE clause: {@code key = v} and {@code key IN (v, ...)} among the
 * top-level AND terms (a key condition under OR or NOT does not restrict the shards, so it is ignored).
 */
final class KeyFinder {
    private final String keyColumn;
    private final Set<String> tableNames; // the table's name and alias, lower-cased as written

    KeyFinder(String keyColumn, Set<String> tableNames) {
        this.keyColumn = keyColumn;
        this.tableNames = tableNames;
    }

    /** The key values the WHERE clause pins, or null when it pins none. */
    List<KeyRef> find(Expression where) {
        if (where == null) {
            return null;
        }
        if (where instanceof AndExpression and) {
            List<KeyRef> left = find(and.getLeftExpression());
            return left != null ? left : find(and.getRightExpression());
        }
        if (where instanceof ExpressionList<?> list && list.size() == 1
                && where.getClass().getSimpleName().startsWith("Parenthesed")) {
            return find(list.get(0));
        }
        if (where instanceof EqualsTo eq) {
            if (isKey(eq.getLeftExpression())) {
                KeyRef v = value(eq.getRightExpression());
                return v == null ? null : List.of(v);
            }
            if (isKey(eq.getRightExpression())) {
                KeyRef v = value(eq.getLeftExpression());
                return v == null ? null : List.of(v);
            }
            return null;
        }
        if (where instanceof InExpression in && !in.isNot() && isKey(in.getLeftExpression())
                && in.getRightExpression() instanceof ExpressionList<?> values) {
            List<KeyRef> refs = new ArrayList<>();
            for (Object o : values) {
                KeyRef v = o instanceof Expression e ? value(e) : null;
                if (v == null) {
                    return null;
                }
                refs.add(v);
            }
            return refs.isEmpty() ? null : refs;
        }
        return null;
    }

    boolean isKey(Expression e) {
        if (!(e instanceof Column c)) {
            return false;
        }
        if (!Identifiers.columnName(c.getColumnName()).equals(keyColumn)) {
            return false;
        }
        if (c.getTable() == null || c.getTable().getName() == null) {
            return true;
        }
        return tableNames.contains(Identifiers.columnName(c.getTable().getName()));
    }

    /** A literal, parameter or NULL; null for anything computed. */
    static KeyRef value(Expression e) {
        if (e instanceof JdbcParameter p) {
            return p.getIndex() == null ? null : new KeyRef.Param(p.getIndex());
        }
        if (e instanceof LongValue l) {
            return new KeyRef.Literal(l.getStringValue());
        }
        if (e instanceof StringValue s) {
            return new KeyRef.Literal(s.getValue().replace("''", "'"));
        }
        if (e instanceof DoubleValue) {
            return null;
        }
        if (e instanceof NullValue) {
            return new KeyRef.Null();
        }
        if (e instanceof SignedExpression s && s.getSign() == '-' && s.getExpression() instanceof LongValue l) {
            return new KeyRef.Literal("-" + l.getStringValue());
        }
        if (e instanceof CastExpression c) {
            return value(c.getLeftExpression());
        }
        if (e instanceof net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList<?> p && p.size() == 1) {
            return value(p.get(0)); // PgJDBC's simple mode inlines parameters as ('1'::int8)
        }
        return null;
    }
}
