package dev.pgreshard.proxy.routing;

import net.sf.jsqlparser.statement.Statement;

import java.util.List;

/**
 * The cluster-independent reading of one SQL text (cached by text): its kind, the parsed statements
 * (empty when the parser could not read it or did not need to), and a COPY command if it is one.
 */
public record ParsedSql(String sql, StatementKind kind, List<Statement> statements, CopyCommand copy) {
    public ParsedSql {
        statements = List.copyOf(statements);
    }
}
