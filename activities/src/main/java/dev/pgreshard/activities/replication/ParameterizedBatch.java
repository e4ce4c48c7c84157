package dev.pgreshard.activities.replication;

import org.postgresql.core.BaseConnection;
import org.postgresql.core.Oid;
import org.postgresql.core.ParameterList;
import org.postgresql.core.Query;
import org.postgresql.core.QueryExecutor;
import org.postgresql.jdbc.BatchResultHandler;
import org.postgresql.jdbc.PgStatement;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Sends a run of row changes to one destination connection as one pipelined extended-protocol
 * batch, whatever mix of tables and statements it holds, in order. Each {@link SqlTemplate} is
 * parsed once per session as a named server-side statement (its parameters' types inferred by
 * the server, as for {@code PREPARE}); each change is then only a Bind (its values as text of
 * unspecified type) and an Execute — no SQL text per change for the server to parse nor for the
 * driver to scan, which is what a batch of {@code EXECUTE name('v1', ...)} statements cost.
 *
 * <p>JDBC has no public way to batch different prepared statements together; this uses PgJDBC's
 * own batch entry point ({@link QueryExecutor#execute(Query[], ParameterList[], BatchResultHandler,
 * int, int, int)}, the one {@code PreparedStatement.executeBatch} uses) with its result handler
 * (so the driver still splits the batch with Syncs where its receive buffer could fill); a refused
 * statement comes back as {@link EntryFailedException} with its index and the server's error.
 * Confined to one thread.
 */
final class ParameterizedBatch {
    /** Not ONESHOT: the driver keeps each query as a named statement and skips its Parse once prepared. */
    private static final int FLAGS = QueryExecutor.QUERY_NO_RESULTS;
    private static final Constructor<BatchResultHandler> HANDLER;
    /** The handler's position when the error came: one past the failing statement (errors at Bind and at Execute alike). */
    private static final Field RESULT_INDEX;

    static {
        try {
            HANDLER = BatchResultHandler.class.getDeclaredConstructor(PgStatement.class, Query[].class,
                    ParameterList[].class, boolean.class);
            HANDLER.setAccessible(true);
            RESULT_INDEX = BatchResultHandler.class.getDeclaredField("resultIndex");
            RESULT_INDEX.setAccessible(true);
        } catch (NoSuchMethodException | NoSuchFieldException e) {
            throw new ExceptionInInitializerError("this PgJDBC version has no BatchResultHandler(PgStatement, Query[], "
                    + "ParameterList[], boolean): the replication apply needs PgJDBC 42.7");
        }
    }

    private final BaseConnection conn;
    private final PgStatement owner;
    /** Per template id, its query on this connection. */
    private final Map<Integer, Query> queries = new HashMap<>();

    ParameterizedBatch(Connection connection) throws SQLException {
        this.conn = connection.unwrap(BaseConnection.class);
        this.owner = connection.createStatement().unwrap(PgStatement.class);
    }

    /**
     * Runs {@code templates.get(i)} with {@code values.get(i)} for every i, in order, in the
     * connection's current transaction; returns each statement's row count.
     */
    int[] run(List<SqlTemplate> templates, List<List<String>> values) throws SQLException {
        int n = templates.size();
        Query[] batch = new Query[n];
        ParameterList[] parameters = new ParameterList[n];
        for (int i = 0; i < n; i++) {
            Query q = query(templates.get(i));
            ParameterList p = q.createParameterList();
            List<String> v = values.get(i);
            if (v.size() != templates.get(i).slots()) {
                throw new IllegalArgumentException("SQL template " + templates.get(i) + " with " + templates.get(i).slots()
                        + " slots got " + v.size() + " values");
            }
            for (int j = 0; j < v.size(); j++) {
                String value = v.get(j);
                if (value == null) {
                    p.setNull(j + 1, Oid.UNSPECIFIED);
                } else {
                    p.setStringParameter(j + 1, value, Oid.UNSPECIFIED);
                }
            }
            batch[i] = q;
            parameters[i] = p;
        }
        BatchResultHandler handler = handler(batch, parameters);
        try {
            conn.getQueryExecutor().execute(batch, parameters, handler, 0, 0, FLAGS);
            return handler.getUpdateCount();
        } catch (BatchUpdateException e) {
            // outside autocommit the driver marks every entry EXECUTE_FAILED: only its handler knows which failed
            SQLException next = e.getNextException();
            throw new EntryFailedException(failedIndex(handler, n), next != null ? next : e);
        }
    }

    /** Statement {@link #index} of a batch was refused; the cause is the server's error. */
    static final class EntryFailedException extends SQLException {
        final int index;

        EntryFailedException(int index, SQLException cause) {
            super(cause.getMessage(), cause.getSQLState(), cause);
            this.index = index;
        }
    }

    private static int failedIndex(BatchResultHandler handler, int size) {
        try {
            return Math.max(0, Math.min(RESULT_INDEX.getInt(handler) - 1, size - 1));
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read PgJDBC's batch result index", e);
        }
    }

    private Query query(SqlTemplate template) throws SQLException {
        Query q = queries.get(template.id());
        if (q == null) {
            // '?' slots (the template's JDBC form) become $n; no escape processing: the text is ours
            q = conn.createQuery(template.jdbcSql(), false, true).query;
            if (q.createParameterList().getParameterCount() != template.slots()) {
                throw new IllegalStateException("SQL template " + template.jdbcSql() + " has " + template.slots()
                        + " slots but the driver found " + q.createParameterList().getParameterCount());
            }
            queries.put(template.id(), q);
        }
        return q;
    }

    private BatchResultHandler handler(Query[] batch, ParameterList[] parameters) throws SQLException {
        try {
            return HANDLER.newInstance(owner, batch, parameters, false);
        } catch (InstantiationException | IllegalAccessException e) {
            throw new IllegalStateException("cannot create PgJDBC's batch result handler", e);
        } catch (InvocationTargetException e) {
            throw new SQLException("cannot create PgJDBC's batch result handler", e.getCause());
        }
    }
}
