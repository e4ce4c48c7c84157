package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.proxy.routing.BindValues;
import dev.pgreshard.proxy.sharded.merge.PgTypes;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.NullValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The client's bind parameters as the planner needs them: LIMIT/OFFSET values, and parameters that the
 * lead shard's final statement uses (HAVING $1), written there as literals.
 */
public record BoundParams(BindValues values, int[] declaredTypes) {
    public static final BoundParams NONE = new BoundParams(BindValues.NONE, new int[0]);

    int declared(int index) {
        return index <= declaredTypes.length ? declaredTypes[index - 1] : 0;
    }

    /** A LIMIT or OFFSET value: a number, or null for none (LIMIT ALL / NULL). */
    Long evalCount(Expression e, String clause) throws Unplannable {
        if (e == null || e instanceof NullValue) {
            return null;
        }
        if (e instanceof ParenthesedExpressionList<?> l && l.size() == 1) {
            return evalCount(l.get(0), clause); // PgJDBC's simple mode writes a parameter as ('10'::int4)
        }
        if (e instanceof CastExpression c && (c.getLeftExpression() instanceof StringValue
                || c.getLeftExpression() instanceof LongValue || c.getLeftExpression() instanceof NullValue)) {
            return evalCount(c.getLeftExpression(), clause);
        }
        if (e instanceof StringValue s) {
            try {
                return Long.parseLong(s.getValue().strip());
            } catch (NumberFormatException ex) {
                throw new Unplannable(clause + " '" + s.getValue() + "' is not an integer");
            }
        }
        if (e instanceof LongValue l) {
            return l.getValue();
        }
        if (e instanceof JdbcParameter p && p.getIndex() != null) {
            int i = p.getIndex();
            if (i < 1 || i > values.count()) {
                throw new Unplannable("parameter $" + i + " of " + clause + " is not bound");
            }
            byte[] v = values.value(i);
            if (v == null) {
                return null;
            }
            if (values.format(i) == 0) {
                try {
                    return Long.parseLong(new String(v, StandardCharsets.UTF_8).strip());
                } catch (NumberFormatException ex) {
                    throw new Unplannable(clause + " $" + i + " is not an integer");
                }
            }
            return switch (v.length) {
                case 2 -> (long) ByteBuffer.wrap(v).getShort();
                case 4 -> (long) ByteBuffer.wrap(v).getInt();
                case 8 -> ByteBuffer.wrap(v).getLong();
                default -> throw new Unplannable(clause + " $" + i + " is not an integer");
            };
        }
        throw new Unplannable(clause + " " + e + " is an expression; give it as a number or a parameter");
    }

    /** Parameter {@code $index} written as a SQL literal, or null when its value cannot be written exactly. */
    String literal(int index) {
        if (index < 1 || index > values.count()) {
            return null;
        }
        byte[] v = values.value(index);
        int type = declared(index);
        String typeName = type == 0 ? null : PgTypes.name(type);
        if (type != 0 && typeName == null) {
            return null;
        }
        if (v == null) {
            return typeName == null ? "NULL" : "NULL::" + typeName;
        }
        String text;
        if (values.format(index) == 0) {
            text = new String(v, StandardCharsets.UTF_8);
        } else {
            text = PgTypes.binaryToText(type, v);
            if (text == null) {
                return null;
            }
        }
        String lit = "'" + text.replace("'", "''") + "'";
        return typeName == null ? lit : lit + "::" + typeName;
    }

    static boolean isConstant(Expression e) {
        return e instanceof LongValue || e instanceof StringValue || e instanceof NullValue
                || (e instanceof SignedExpression s && s.getExpression() instanceof LongValue);
    }
}
