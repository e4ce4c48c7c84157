package dev.pgreshard.proxy.differential;

import org.postgresql.PGResultSetMetaData;

import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * What a client saw for one execution: an error (SQLSTATE and message), or the result's column
 * labels, column types (name, precision and scale, i.e. the RowDescription's type and modifier as
 * PgJDBC reports them) and every row as the text {@link ResultSet#getString} gives; {@code binary}
 * when some column came in binary format (PgJDBC asks for it after a named statement was described).
 */
record Answer(String sqlState, String error, List<String> labels, List<String> types, List<List<String>> rows, boolean binary) {
    static final String REFUSED = "0A000";

    static Answer of(ResultSet rs) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        int n = md.getColumnCount();
        List<String> labels = new ArrayList<>(n);
        List<String> types = new ArrayList<>(n);
        boolean binary = false;
        for (int i = 1; i <= n; i++) {
            binary |= md.unwrap(PGResultSetMetaData.class).getFormat(i) == 1;
            labels.add(md.getColumnLabel(i));
            types.add(md.getColumnTypeName(i) + "(" + md.getPrecision(i) + "," + md.getScale(i) + ")");
        }
        List<List<String>> rows = new ArrayList<>();
        while (rs.next()) {
            List<String> row = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                row.add(rs.getString(i));
            }
            rows.add(row);
        }
        return new Answer(null, null, labels, types, rows, binary);
    }

    static Answer of(SQLException e) {
        return new Answer(e.getSQLState() == null ? "?????" : e.getSQLState(), e.getMessage(), List.of(), List.of(), List.of(), false);
    }

    boolean failed() {
        return sqlState != null;
    }

    boolean refused() {
        return REFUSED.equals(sqlState);
    }

    /** A short rendering for reports: the error, or the columns and the first rows. */
    String brief(int maxRows) {
        if (failed()) {
            return "ERROR " + sqlState + ": " + error;
        }
        String head = rows.stream().limit(maxRows).map(Object::toString).collect(Collectors.joining(" "));
        return rows.size() + " rows " + labels + " " + types + ": " + head + (rows.size() > maxRows ? " …" : "");
    }
}
