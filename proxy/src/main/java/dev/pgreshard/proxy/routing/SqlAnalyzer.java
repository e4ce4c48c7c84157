package dev.pgreshard.proxy.routing;

import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.Statements;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.update.Update;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads SQL text once (JSqlParser) and classifies it; results are cached by text, so prepared and
 * repeated statements cost a map lookup. Transaction control, session commands and COPY are recognised
 * by their leading keywords before the parser is asked (it does not know several of them).
 */
public final class SqlAnalyzer {
    private static final int CACHE_SIZE = 10_000;

    private final Map<String, ParsedSql> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, ParsedSql> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    public ParsedSql analyze(String sql) {
        synchronized (cache) {
            ParsedSql hit = cache.get(sql);
            if (hit != null) {
                return hit;
            }
        }
        ParsedSql parsed = read(sql);
        synchronized (cache) {
            cache.put(sql, parsed);
        }
        return parsed;
    }

    private static ParsedSql read(String sql) {
        String head = leadingWords(sql, 3);
        String first = head.isEmpty() ? "" : head.split(" ")[0];
        switch (first) {
            case "begin", "start" -> {
                return simple(sql, StatementKind.BEGIN);
            }
            case "commit", "end" -> {
                return simple(sql, head.startsWith("commit prepared") ? StatementKind.UNKNOWN : StatementKind.COMMIT);
            }
            case "abort" -> {
                return simple(sql, StatementKind.ROLLBACK);
            }
            case "rollback" -> {
                if (head.startsWith("rollback to")) {
                    return simple(sql, StatementKind.IN_TRANSACTION);
                }
                return simple(sql, head.startsWith("rollback prepared") ? StatementKind.UNKNOWN : StatementKind.ROLLBACK);
            }
            case "savepoint", "release" -> {
                return simple(sql, StatementKind.IN_TRANSACTION);
            }
            case "set" -> {
                if (head.startsWith("set local") || head.startsWith("set transaction")
                        || head.startsWith("set constraints")) {
                    return simple(sql, StatementKind.IN_TRANSACTION);
                }
                return simple(sql, StatementKind.SESSION);
            }
            case "reset", "discard" -> {
                return simple(sql, StatementKind.SESSION);
            }
            case "show" -> {
                return simple(sql, StatementKind.ANY_SHARD);
            }
            case "copy" -> {
                CopyCommand copy = CopyCommand.parse(sql);
                if (copy == null) {
                    return simple(sql, StatementKind.UNKNOWN);
                }
                return new ParsedSql(sql, copy.in() ? StatementKind.COPY_IN : StatementKind.COPY_OUT, List.of(), copy);
            }
            case "" -> {
                return simple(sql, StatementKind.ANY_SHARD);
            }
            default -> {
                // parsed below
            }
        }
        try {
            Statements statements = CCJSqlParserUtil.parseStatements(sql);
            if (statements == null || statements.isEmpty()) {
                return simple(sql, StatementKind.ANY_SHARD);
            }
            StatementKind kind = null;
            for (Statement s : statements) {
                StatementKind k = classify(s);
                kind = kind == null ? k : combine(kind, k);
            }
            return new ParsedSql(sql, kind, statements, null);
        } catch (JSQLParserException | RuntimeException e) {
            // unreadable: only a plainly read-only statement may still fan out
            boolean readOnly = (first.equals("select") || first.equals("values") || first.equals("table")
                    || (first.equals("explain") && !head.contains("analyze"))) && !mentionsWrite(sql);
            return simple(sql, readOnly ? StatementKind.READ : StatementKind.UNKNOWN);
        }
    }

    private static StatementKind classify(Statement s) {
        if (s instanceof Select) {
            return StatementKind.READ;
        }
        if (s instanceof Insert || s instanceof Update || s instanceof Delete || s instanceof Merge) {
            return StatementKind.WRITE;
        }
        return StatementKind.ALL_SHARDS_WRITE;
    }

    private static StatementKind combine(StatementKind a, StatementKind b) {
        if (a == b) {
            return a;
        }
        if (a == StatementKind.READ) {
            return b;
        }
        if (b == StatementKind.READ) {
            return a;
        }
        return StatementKind.ALL_SHARDS_WRITE;
    }

    private static boolean mentionsWrite(String sql) {
        String s = sql.toLowerCase(Locale.ROOT);
        return s.matches("(?s).*\\b(insert|update|delete|merge|into|for\\s+update|for\\s+share|nextval|setval)\\b.*");
    }

    private static ParsedSql simple(String sql, StatementKind kind) {
        return new ParsedSql(sql, kind, List.of(), null);
    }

    /** The first {@code n} words in lower case, comments and leading parentheses skipped. */
    static String leadingWords(String sql, int n) {
        StringBuilder out = new StringBuilder();
        int words = 0;
        int i = 0;
        int len = sql.length();
        while (i < len && words < n) {
            char c = sql.charAt(i);
            if (Character.isWhitespace(c) || c == '(' || c == ';') {
                i++;
            } else if (c == '-' && i + 1 < len && sql.charAt(i + 1) == '-') {
                while (i < len && sql.charAt(i) != '\n') {
                    i++;
                }
            } else if (c == '/' && i + 1 < len && sql.charAt(i + 1) == '*') {
                int end = sql.indexOf("*/", i + 2);
                i = end < 0 ? len : end + 2;
            } else if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < len && (Character.isLetterOrDigit(sql.charAt(i)) || sql.charAt(i) == '_')) {
                    i++;
                }
                if (out.length() > 0) {
                    out.append(' ');
                }
                out.append(sql, start, i);
                words++;
            } else {
                break;
            }
        }
        return out.toString().toLowerCase(Locale.ROOT);
    }
}
