package dev.pgreshard.activities.preflight;

import dev.pgreshard.core.topology.Shard;
import dev.pgreshard.core.topology.TableName;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The roles schema sync will name on the destination: every role the moved tables, their sequences and
 * schemas GRANT something to on the source, and their owners unless superusers (schema sync grants an
 * owner ALL there, see SchemaPrivileges). Roles belong to a server, not a
 * database, so each destination server must have them before schema sync; else a GRANT fails there or,
 * worse, a role that logs in as itself through the proxy is refused after the cutover where the source
 * let it in.
 */
final class GrantedRoles {
    private GrantedRoles() {
    }

    /** Role name → one thing it owns or was granted on the source (for the message). */
    static Map<String, String> of(Connection source, Collection<TableName> relations) throws SQLException {
        Map<String, String> roles = new TreeMap<>();
        List<String> names = new ArrayList<>();
        relations.forEach(t -> names.add(t.quoted()));
        Array array = source.createArrayOf("text", names.toArray());
        try (PreparedStatement ps = source.prepareStatement("""
                WITH rel AS (SELECT c.* FROM pg_catalog.pg_class c
                             WHERE c.oid IN (SELECT pg_catalog.to_regclass(x) FROM pg_catalog.unnest(?::text[]) x)),
                     named AS (
                    SELECT relowner AS role, 'owner of ' || oid::regclass AS what FROM rel
                    UNION ALL
                    SELECT a.grantee, a.privilege_type || ' on ' || r.oid::regclass FROM rel r, pg_catalog.aclexplode(r.relacl) a
                    UNION ALL
                    SELECT n.nspowner, 'owner of schema ' || pg_catalog.quote_ident(n.nspname)
                      FROM pg_catalog.pg_namespace n WHERE n.oid IN (SELECT relnamespace FROM rel) AND n.nspname <> 'public'
                    UNION ALL
                    SELECT a.grantee, a.privilege_type || ' on schema ' || pg_catalog.quote_ident(n.nspname)
                      FROM pg_catalog.pg_namespace n, pg_catalog.aclexplode(n.nspacl) a
                     WHERE n.oid IN (SELECT relnamespace FROM rel) AND n.nspname <> 'public')
                SELECT r.rolname, min(named.what) FROM named JOIN pg_catalog.pg_roles r ON r.oid = named.role
                WHERE r.rolname NOT LIKE 'pg\\_%' AND NOT (r.rolsuper AND named.what LIKE 'owner of%')
                GROUP BY r.rolname""")) {
            ps.setArray(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    roles.put(rs.getString(1), rs.getString(2));
                }
            }
        }
        return roles;
    }

    /** Blocks for every role of {@code roles} that the destination shard's server lacks. */
    static void checkOn(Connection destination, Shard shard, String cluster, Map<String, String> roles, Findings findings)
            throws SQLException {
        try (PreparedStatement ps = destination.prepareStatement("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = ?")) {
            for (Map.Entry<String, String> role : roles.entrySet()) {
                ps.setString(1, role.getKey());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        findings.block("role '" + role.getKey() + "' (" + role.getValue() + " on the source) does not exist on "
                                + "destination " + shard.describe() + "; schema sync copies the source's owners and GRANTs, "
                                + "so a client logging in as that role would be refused on the shards after the cutover",
                                "create the role on every server of cluster '" + cluster + "' (CREATE ROLE "
                                + dev.pgreshard.core.pg.Identifiers.quote(role.getKey()) + " LOGIN PASSWORD '…' with the "
                                + "source's attributes) and give it its users.toml entry there, then re-run");
                    }
                }
            }
        }
    }
}
