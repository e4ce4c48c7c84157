package dev.pgreshard.proxy.sharded.plan;

import net.sf.jsqlparser.expression.AnalyticExpression;
import net.sf.jsqlparser.expression.BinaryExpression;
import net.sf.jsqlparser.expression.CaseExpression;
import net.sf.jsqlparser.expression.CastExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExtractExpression;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.NotExpression;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.operators.relational.Between;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.IsBooleanExpression;
import net.sf.jsqlparser.expression.operators.relational.IsNullExpression;
import net.sf.jsqlparser.expression.operators.relational.LikeExpression;
import net.sf.jsqlparser.expression.operators.relational.OldOracleJoinBinaryExpression;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.util.deparser.ExpressionDeParser;

import java.util.Set;

/**
 * Writes an expression of the client's statement for the lead shard's final statement: aggregates and
 * group keys become references to the columns the shards returned (via {@code replace}), bind
 * parameters become literals, output-column names stay. A column that is neither a group key nor inside
 * an aggregate cannot be evaluated after the merge: the first one is kept in {@link #unresolved}.
 */
final class FinalRenderer extends ExpressionDeParser {
    /** Looks up the replacement text of a sub-expression, or null. */
    interface Replacements {
        String of(Expression e);
    }

    private final Replacements replace;
    private final BoundParams params;
    private final Set<String> outputNames;
    String unresolved;

    FinalRenderer(Replacements replace, BoundParams params, Set<String> outputNames) {
        this.replace = replace;
        this.params = params;
        this.outputNames = outputNames;
    }

    static String render(Expression e, Replacements replace, BoundParams params, Set<String> outputNames)
            throws Unplannable {
        FinalRenderer r = new FinalRenderer(replace, params, outputNames);
        e.accept(r, null);
        if (r.unresolved != null) {
            throw new Unplannable(r.unresolved);
        }
        return r.getBuilder().toString();
    }

    private boolean replaced(Expression e) {
        String s = replace.of(e);
        if (s != null) {
            builder.append(s);
            return true;
        }
        return false;
    }

    @Override
    public <S> StringBuilder visit(Function f, S context) {
        return replaced(f) ? builder : super.visit(f, context);
    }

    @Override
    public <S> StringBuilder visit(AnalyticExpression a, S context) {
        return replaced(a) ? builder : super.visit(a, context);
    }

    @Override
    public <S> StringBuilder visit(CastExpression c, S context) {
        return replaced(c) ? builder : super.visit(c, context);
    }

    @Override
    public <S> StringBuilder visit(CaseExpression c, S context) {
        return replaced(c) ? builder : super.visit(c, context);
    }

    @Override
    public <S> StringBuilder visit(ExpressionList<? extends Expression> l, S context) {
        return replaced(l) ? builder : super.visit(l, context);
    }

    @Override
    public <S> StringBuilder deparse(OldOracleJoinBinaryExpression b, String operator, S context) {
        return replaced(b) ? builder : super.deparse(b, operator, context);
    }

    @Override
    public <S> StringBuilder visit(IsNullExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(IsBooleanExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(LikeExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(Between e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(InExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(NotExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(ExtractExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    public <S> StringBuilder visit(SignedExpression e, S context) {
        return replaced(e) ? builder : super.visit(e, context);
    }

    @Override
    protected <S> void deparse(BinaryExpression b, String operator, S context) {
        if (!replaced(b)) {
            super.deparse(b, operator, context);
        }
    }

    @Override
    public <S> StringBuilder visit(Column c, S context) {
        if (replaced(c)) {
            return builder;
        }
        if (c.getTable() == null && outputNames.contains(c.getColumnName())) {
            return super.visit(c, context); // ORDER BY an output column by its name
        }
        if (unresolved == null) {
            unresolved = "column " + c + " is used outside an aggregate and is not a GROUP BY expression; "
                    + "the proxy can only merge such a query when every column is grouped or aggregated";
        }
        return builder.append(c);
    }

    @Override
    public <S> StringBuilder visit(JdbcParameter p, S context) {
        String lit = p.getIndex() == null ? null : params.literal(p.getIndex());
        if (lit == null) {
            if (unresolved == null) {
                unresolved = "parameter " + p + " is used after the merge (HAVING, select list or ORDER BY of a "
                        + "grouped query) with a type the proxy cannot write as a literal; bind it as text";
            }
            return builder.append(p);
        }
        return builder.append('(').append(lit).append(')');
    }

    @Override
    public <S> StringBuilder visit(ParenthesedSelect s, S context) {
        if (unresolved == null) {
            unresolved = "a subquery in the select list, HAVING or ORDER BY of a grouped query cannot be evaluated "
                    + "after the merge; move it into a join or run it separately";
        }
        return builder.append(s);
    }
}
