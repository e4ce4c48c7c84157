package dev.pgreshard.activities.preflight;

import dev.pgreshard.core.pg.Identifiers;
import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What the role pgreshard connects as (users.toml's server_user, or the entry's user) must be
 * allowed to do on each server, checked with PostgreSQL's own privilege functions; each missing
 * privilege is a blocker with the GRANT (to run as a superuser or the object's owner). A superuser
 * passes everything.
 * <ul>
 * <li>source: REPLICATION (slots for the copy and replication); SELECT on the published tables and
 *     their sequences (copy, pg_dump); INSERT, UPDATE, DELETE on them and UPDATE on the sequences
 *     (reverse replication and rollback write back into the source); CREATE on the database (the
 *     {@code pgreshard} schema of reverse replication's progress table); SET of
 *     session_replication_role (replicated rows must not fire the source's triggers again).</li>
 * <li>destination: CREATE on the database and on existing schemas of the tables (schema sync);
 *     REPLICATION (reverse replication's slots); ownership of tables that already exist (reverse
 *     replication publishes them); SET of session_replication_role.</li>
 * </ul>
 */
final class Privileges {
    private final Connection c;
    private final Shard shard;
    private final String side;
    private final Findings findings;
    private final String role;
    private final boolean superuser;
    private final boolean replication;
    private final int major;

    Privileges(Connection c, Shard shard, String side, Findings findings) throws SQLException {
        this.c = c;
        this.shard = shard;
        this.side = side;
        this.findings = findings;
        try (PreparedStatement ps = c.prepareStatement("SELECT current_user, rolsuper, rolreplication, "
                + "current_setting('server_version_num')::int / 10000 FROM pg_roles WHERE rolname = current_user");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            role = rs.getString(1);
            superuser = rs.getBoolean(2);
            replication = rs.getBoolean(3);
            major = rs.getInt(4);
        }
    }

    private String who() {
        return "user " + role + " on " + side + " " + shard.describe();
    }

    private String roleSql() {
        return Identifiers.quote(role);
    }

    /** Whether the role may open replication connections and create slots. */
    boolean mayReplicate() {
        return superuser || replication;
    }

    /** Creating slots needs the REPLICATION attribute (or superuser). */
    void replication(String why) {
        if (!superuser && !replication) {
            findings.block(who() + " may not create replication slots (" + why + ")",
                    "ALTER ROLE " + roleSql() + " REPLICATION;");
        }
    }

    /**
     * The apply side sets session_replication_role = replica so replicated rows do not fire
     * triggers and foreign-key checks a second time; a plain role may SET it from PostgreSQL 15 on
     * when granted, before that only a superuser may.
     */
    void sessionReplicationRole() throws SQLException {
        if (superuser) {
            return;
        }
        boolean granted = false;
        if (major >= 15) {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT has_parameter_privilege(current_user, 'session_replication_role', 'SET')");
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                granted = rs.getBoolean(1);
            }
        }
        if (!granted) {
            findings.block(who() + " may not SET session_replication_role, so changes replicated into it would fire "
                    + "its triggers and foreign-key checks a second time",
                    major >= 15 ? "GRANT SET ON PARAMETER session_replication_role TO " + roleSql() + ";"
                            : "ALTER ROLE " + roleSql() + " SUPERUSER; (PostgreSQL " + major
                            + " lets only superusers set it; 15+ can GRANT SET ON PARAMETER)");
        }
    }

    /** CREATE on the current database, unless {@code schema} exists and may be created in. */
    void createIn(String schema, String why) throws SQLException {
        if (superuser) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT current_database(), has_database_privilege(current_database(), 'CREATE'),
                       (SELECT has_schema_privilege(n.oid, 'CREATE') FROM pg_namespace n WHERE n.nspname = ?)""")) {
            ps.setString(1, schema);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Object schemaCreate = rs.getObject(3);
                if (schemaCreate == null && !rs.getBoolean(2)) {
                    findings.block(who() + " may not create schema " + schema + " (" + why + ")",
                            "GRANT CREATE ON DATABASE " + Identifiers.quote(rs.getString(1)) + " TO " + roleSql() + ";");
                } else if (schemaCreate != null && !(Boolean) schemaCreate) {
                    findings.block(who() + " may not create tables in schema " + schema + " (" + why + ")",
                            "GRANT USAGE, CREATE ON SCHEMA " + Identifiers.quote(schema) + " TO " + roleSql() + ";");
                }
            }
        }
    }

    /** The table privileges {@code needed} (e.g. SELECT, INSERT) on {@code table}; one GRANT for what is missing. */
    void onTable(TableName table, List<String> needed, String why) throws SQLException {
        onRelation(table, needed, why, "TABLE", "has_table_privilege");
    }

    /** The sequence privileges {@code needed} (SELECT, UPDATE) on {@code sequence}. */
    void onSequence(TableName sequence, List<String> needed, String why) throws SQLException {
        onRelation(sequence, needed, why, "SEQUENCE", "has_sequence_privilege");
    }

    private void onRelation(TableName relation, List<String> needed, String why, String kind, String function)
            throws SQLException {
        if (superuser) {
            return;
        }
        List<String> missing = new ArrayList<>();
        for (String privilege : needed) {
            try (PreparedStatement ps = c.prepareStatement("SELECT " + function + "(?, ?)")) {
                ps.setString(1, relation.quoted());
                ps.setString(2, privilege);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        missing.add(privilege);
                    }
                }
            }
        }
        if (!missing.isEmpty()) {
            findings.block(who() + " lacks " + String.join(", ", missing) + " on " + kind.toLowerCase() + " " + relation
                    + " (" + why + ")", "GRANT " + String.join(", ", missing) + " ON " + (kind.equals("TABLE") ? ""
                    : "SEQUENCE ") + relation.quoted() + " TO " + roleSql() + ";");
        }
    }

    /** An existing destination table must be owned by the role: reverse replication publishes it. */
    void owns(TableName table) throws SQLException {
        if (superuser) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_has_role(c.relowner, 'USAGE') FROM pg_class c "
                + "WHERE c.oid = to_regclass(?)")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && !rs.getBoolean(1)) {
                    findings.block(who() + " does not own table " + table + ", which already exists there (reverse "
                            + "replication creates a publication of it, which only its owner may)",
                            "ALTER TABLE " + table.quoted() + " OWNER TO " + roleSql() + ";");
                }
            }
        }
    }
}
