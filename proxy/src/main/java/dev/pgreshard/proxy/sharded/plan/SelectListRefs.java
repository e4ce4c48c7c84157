package dev.pgreshard.proxy.sharded.plan;

import dev.pgreshard.proxy.routing.Identifiers;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.AllTableColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * What ORDER BY, DISTINCT ON and GROUP BY items refer to in the select list, read as PostgreSQL's parser reads
 * them (findTargetlistEntrySQL92): positions, output-column names, and positions into a {@code *} whose width only
 * the shards know.
 */
final class SelectListRefs {
    /** PostgreSQL's limit on the columns of a select list (MaxTupleAttributeNumber). */
    private static final int MAX_COLUMNS = 1664;

    private SelectListRefs() {
    }

    /**
     * The expression an ORDER BY / DISTINCT ON / GROUP BY item stands for, as PostgreSQL's
     * findTargetlistEntrySQL92 reads it: a position names that output column; in ORDER BY and DISTINCT ON a
     * bare name that an output column carries (its alias, or the name PostgreSQL gives an unaliased
     * expression, see {@link ColumnNames}) names that column; in GROUP BY only an alias does (an input column
     * of the same name wins there, see AggregatePlanner). Anything else is an expression over the input.
     */
    static Expression resolve(Expression e, PlainSelect p, String clause) throws Unplannable {
        List<SelectItem<?>> items = p.getSelectItems();
        if (e instanceof LongValue pos) {
            int star = firstStar(items);
            long n = pos.getValue();
            if (n >= 1 && n <= (star < 0 ? items.size() : star)) {
                return items.get((int) n - 1).getExpression();
            }
            if (n < 1 || star < 0) {
                throw new Unplannable.PostgresRejects(clause + " position " + pos + " is not in select list");
            }
            return intoStar(p, (int) n, clause);
        }
        if (e instanceof Column c && c.getTable() == null) {
            String name = Identifiers.columnName(c.getColumnName());
            boolean outputNames = !clause.equals("GROUP BY");
            Expression found = null;
            for (SelectItem<?> item : items) {
                if (item.getExpression() instanceof AllColumns) {
                    continue; // a column of * with this name is the column itself (PostgreSQL finds any ambiguity)
                }
                String itemName = item.getAlias() != null ? Identifiers.columnName(item.getAlias().getName())
                        : outputNames ? ColumnNames.of(item.getExpression()) : null;
                if (name.equals(itemName)) {
                    if (found != null && !found.toString().equals(item.getExpression().toString())) {
                        throw new Unplannable.PostgresRejects(clause + " \"" + name + "\" is ambiguous");
                    }
                    found = item.getExpression();
                }
            }
            if (found != null) {
                return found;
            }
        }
        return e;
    }

    /** The ORDER BY, then DISTINCT ON positions (PostgreSQL's order of checking) that point past a {@code *}. */
    static List<ReadPlan.StarPosition> starPositions(PlainSelect p) {
        int star = firstStar(p.getSelectItems());
        List<ReadPlan.StarPosition> out = new ArrayList<>();
        if (star < 0) {
            return out;
        }
        if (p.getOrderByElements() != null) {
            for (OrderByElement o : p.getOrderByElements()) {
                if (o.getExpression() instanceof LongValue pos && pos.getValue() > star) {
                    out.add(new ReadPlan.StarPosition("ORDER BY", (int) pos.getValue()));
                }
            }
        }
        if (p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null) {
            for (SelectItem<?> on : p.getDistinct().getOnSelectItems()) {
                if (on.getExpression() instanceof LongValue pos && pos.getValue() > star) {
                    out.add(new ReadPlan.StarPosition("DISTINCT ON", (int) pos.getValue()));
                }
            }
        }
        return out;
    }

    private static int firstStar(List<SelectItem<?>> items) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i).getExpression() instanceof AllColumns) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Output column {@code n} of a select list with a {@code *} before it, whose width is known only to the
     * shards: an expression that selects the list again for the current row, names its columns by position and
     * takes the n-th — {@code (SELECT _pgr_pos._pgr_cn FROM (SELECT <the list>) AS _pgr_pos(_pgr_c1, …, _pgr_cn))}.
     * It keeps the column's type and collation; a bare {@code *} is written as each FROM item's {@code t.*}
     * (the inner SELECT has no FROM of its own). The inner list is padded with n NULLs so that it always has n
     * columns to name: a position past the list's end then takes a NULL, and the client's own ORDER BY, which the
     * shards' statement repeats, fails there with PostgreSQL's own error.
     */
    private static Expression intoStar(PlainSelect p, int n, String clause) throws Unplannable {
        if (n > MAX_COLUMNS) {
            throw new Unplannable.PostgresRejects(clause + " position " + n + " is not in select list");
        }
        StringJoiner inner = new StringJoiner(", ");
        for (SelectItem<?> item : p.getSelectItems()) {
            if (item.getExpression() instanceof AllColumns all && !(all instanceof AllTableColumns)) {
                inner.add(qualifiedStar(p, clause + " position " + n));
            } else {
                inner.add(item.toString());
            }
        }
        StringJoiner names = new StringJoiner(", ");
        for (int i = 1; i <= n; i++) {
            names.add("_pgr_c" + i);
            inner.add("NULL");
        }
        String sql = "(SELECT _pgr_pos._pgr_c" + n + " FROM (SELECT " + inner + ") AS _pgr_pos(" + names + "))";
        try {
            return CCJSqlParserUtil.parseExpression(sql);
        } catch (JSQLParserException e) {
            throw new Unplannable(clause + " position " + n + " refers into *; name the column");
        }
    }

    /** {@code *} as the FROM items' {@code t.*, u.*} (what it expands to when no join merges columns). */
    private static String qualifiedStar(PlainSelect p, String what) throws Unplannable {
        List<FromItem> from = new ArrayList<>();
        if (p.getFromItem() != null) {
            from.add(p.getFromItem());
        }
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) {
                if (j.isNatural() || (j.getUsingColumns() != null && !j.getUsingColumns().isEmpty())) {
                    throw new Unplannable(what + " refers into * over a NATURAL or USING join, which the proxy cannot "
                            + "expand; name the column");
                }
                from.add(j.getRightItem());
            }
        }
        StringJoiner stars = new StringJoiner(", ");
        for (FromItem f : from) {
            if (f.getAlias() != null) {
                stars.add(f.getAlias().getName() + ".*");
            } else if (f instanceof Table t) {
                stars.add(t.getFullyQualifiedName() + ".*");
            } else {
                throw new Unplannable(what + " refers into * over an unnamed FROM item; name the column or alias the item");
            }
        }
        if (stars.length() == 0) {
            throw new Unplannable.PostgresRejects("SELECT * with no tables");
        }
        return stars.toString();
    }

}
