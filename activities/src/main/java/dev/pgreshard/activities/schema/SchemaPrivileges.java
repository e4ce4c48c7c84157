package dev.pgreshard.activities.schema;

import dev.pgreshard.core.pg.Identifiers;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Privileges pg_dump's GRANTs do not carry (issue 18: the proxy logs each client in as itself, so a role
 * that is not the worker's login must find on the shards what it had on the source):
 * <ul>
 *   <li>a schema schema sync creates itself (pg_dump -t dumps tables, not their schema): its GRANTs;</li>
 *   <li>owners: on the destination the worker's login owns what it creates (it may not be allowed to give
 *       objects away), so a non-superuser owner on the source gets ALL on its tables, sequences and schema
 *       there — the same answers to its queries and writes (not its DDL rights).</li>
 * </ul>
 * Every step is a GRANT, idempotent, so it runs on every sync (probe "not there").
 */
final class SchemaPrivileges {
    private static final String ROLE = """
            CASE WHEN %1$s = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(%1$s)) END""";

    private SchemaPrivileges() {
    }

    static List<DdlStep> of(Connection source, String schema) throws SQLException {
        List<DdlStep> steps = new ArrayList<>();
        try (PreparedStatement ps = source.prepareStatement("""
                SELECT pg_catalog.string_agg(g, ' ') FROM (
                  SELECT pg_catalog.format('GRANT %s ON SCHEMA %I TO %s;', a.privilege_type, n.nspname, """ + ROLE.formatted("a.grantee") + """
                  ) AS g FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
                  WHERE n.nspname = ? AND a.grantee <> n.nspowner
                  UNION ALL
                  SELECT pg_catalog.format('GRANT ALL ON SCHEMA %I TO %I;', n.nspname, r.rolname)
                  FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
                  WHERE n.nspname = ? AND NOT r.rolsuper AND r.rolname <> current_user AND n.nspname <> 'public') x""")) {
            ps.setString(1, schema);
            ps.setString(2, schema);
            try (ResultSet rs = ps.executeQuery()) {
                if (rs.next() && rs.getString(1) != null) {
                    steps.add(new DdlStep("SCHEMA GRANTS " + schema, rs.getString(1), c -> false));
                }
            }
        }
        return steps;
    }

    /** GRANT ALL to the source owner of every table and sequence of the dump that a non-superuser owns. */
    static List<DdlStep> ofOwners(Connection source, List<DumpEntry> entries) throws SQLException {
        List<DdlStep> steps = new ArrayList<>();
        for (DumpEntry e : entries) {
            if (!e.type().equals("TABLE") && !e.type().equals("SEQUENCE")) {
                continue;
            }
            String relation = Identifiers.quote(e.schema()) + "." + Identifiers.quote(e.name());
            try (PreparedStatement ps = source.prepareStatement("""
                    SELECT r.rolname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
                    WHERE c.oid = pg_catalog.to_regclass(?) AND NOT r.rolsuper AND r.rolname <> current_user""")) {
                ps.setString(1, relation);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        steps.add(new DdlStep("OWNER GRANTS " + e.type() + " " + e.schema() + "." + e.name(),
                                "GRANT ALL ON " + e.type() + " " + relation + " TO " + Identifiers.quote(rs.getString(1)) + ";",
                                c -> false));
                    }
                }
            }
        }
        return steps;
    }
}
