package dev.pgreshard.proxy.routing;

import dev.pgreshard.core.topology.TableName;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code COPY table [(columns)] FROM STDIN | TO STDOUT [options]}, read with a small grammar (the SQL
 * parser does not know COPY). {@code table} is null for {@code COPY (query) TO STDOUT}.
 */
public record CopyCommand(TableName table, List<String> columns, boolean in, boolean csv, boolean binary,
                          char delimiter, boolean header) {
    private static final Pattern COPY = Pattern.compile(
            "^\\s*copy\\s+(\\(.*\\)|(?:\"(?:[^\"]|\"\")+\"|[\\w$]+)(?:\\s*\\.\\s*(?:\"(?:[^\"]|\"\")+\"|[\\w$]+))?)"
                    + "\\s*(\\([^)]*\\))?\\s+(from|to)\\s+(stdin|stdout)\\b(.*)$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern DELIMITER = Pattern.compile("delimiter\\s*(?:as\\s*)?'(.)'", Pattern.CASE_INSENSITIVE);

    /** Reads a COPY statement, or returns null when {@code sql} is not a COPY from STDIN / to STDOUT. */
    public static CopyCommand parse(String sql) {
        Matcher m = COPY.matcher(sql.trim().replaceAll(";\\s*$", ""));
        if (!m.matches()) {
            return null;
        }
        String target = m.group(1);
        TableName table = target.startsWith("(") ? null : Identifiers.tableName(target);
        List<String> columns = new ArrayList<>();
        if (m.group(2) != null) {
            String inner = m.group(2).substring(1, m.group(2).length() - 1);
            for (String c : inner.split(",")) {
                columns.add(Identifiers.columnName(c.trim()));
            }
        }
        boolean in = m.group(3).equalsIgnoreCase("from");
        String options = m.group(5).toLowerCase(Locale.ROOT);
        boolean csv = options.matches("(?s).*\\bcsv\\b.*");
        boolean binary = options.matches("(?s).*\\bbinary\\b.*");
        Matcher d = DELIMITER.matcher(m.group(5));
        char delimiter = d.find() ? d.group(1).charAt(0) : (csv ? ',' : '\t');
        boolean header = options.matches("(?s).*\\bheader\\b(?!\\s*(false|off|0)).*");
        return new CopyCommand(table, columns, in, csv, binary, delimiter, header);
    }
}
