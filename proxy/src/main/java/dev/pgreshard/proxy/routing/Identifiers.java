package dev.pgreshard.proxy.routing;

import dev.pgreshard.core.topology.TableName;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** SQL identifiers as PostgreSQL reads them: unquoted ones fold to lower case, quoted ones are exact. */
public final class Identifiers {
    private Identifiers() {
    }

    public static String columnName(String text) {
        return unquote(text.trim());
    }

    /** {@code orders}, {@code s.orders}, {@code "Line Items"} → catalog table name (schema public when absent). */
    public static TableName tableName(String text) {
        List<String> parts = splitDotted(text.trim());
        if (parts.size() == 1) {
            return new TableName("public", unquote(parts.get(0)));
        }
        return new TableName(unquote(parts.get(parts.size() - 2)), unquote(parts.get(parts.size() - 1)));
    }

    public static String unquote(String s) {
        if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
            return s.substring(1, s.length() - 1).replace("\"\"", "\"");
        }
        return s.toLowerCase(Locale.ROOT);
    }

    private static List<String> splitDotted(String s) {
        List<String> parts = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            }
            if (c == '.' && !quoted) {
                parts.add(cur.toString().trim());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        parts.add(cur.toString().trim());
        return parts;
    }
}
