package dev.pgreshard.activities.schema;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A plain-text pg_dump script split into its preamble (the SET statements that pin search_path
 * and friends) and its TOC entries. pg_dump writes every entry under a header comment naming it,
 * which is what lets schema sync check each object on the destination before creating it.
 * psql meta-commands (pg_dump 15.14+ writes {@code \restrict KEY}) are dropped: they are not SQL.
 */
public record DumpScript(List<String> preamble, List<DumpEntry> entries) {
    private static final Pattern HEADER = Pattern.compile(
            "^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: ([^;]*)(?:; Tablespace: .*)?$");

    public static DumpScript parse(String script) {
        List<String> preamble = new ArrayList<>();
        List<DumpEntry> entries = new ArrayList<>();
        String[] header = null;
        StringBuilder sql = new StringBuilder();
        for (String line : script.split("\n", -1)) {
            if (line.startsWith("\\")) {
                continue;
            }
            Matcher m = HEADER.matcher(line);
            if (m.matches()) {
                flush(header, sql, preamble, entries);
                header = new String[] {m.group(1), m.group(2), m.group(3)};
                sql.setLength(0);
                continue;
            }
            if (line.startsWith("--") || (line.isBlank() && sql.isEmpty())) {
                continue;
            }
            sql.append(line).append('\n');
            if (header == null && line.stripTrailing().endsWith(";")) {
                preamble.add(sql.toString().strip());
                sql.setLength(0);
            }
        }
        flush(header, sql, preamble, entries);
        return new DumpScript(List.copyOf(preamble), List.copyOf(entries));
    }

    private static void flush(String[] header, StringBuilder sql, List<String> preamble, List<DumpEntry> entries) {
        String text = sql.toString().strip();
        if (header != null && !text.isEmpty()) {
            entries.add(new DumpEntry(header[0], header[1], header[2], text));
        } else if (header == null && !text.isEmpty()) {
            preamble.add(text);
        }
    }
}
