package dev.pgreshard.activities.preflight;

import dev.pgreshard.core.config.ControlConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import dev.pgreshard.core.pg.Identifiers;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * The control store ({@code [control]}): reachable with its credentials, and the role may create
 * the registry's tables (Flyway migrates them on first open) in its current schema, unless they
 * exist already. Opening it for real would migrate it, which a plan must not do.
 */
final class ControlStoreCheck {
    private ControlStoreCheck() {
    }

    static void check(PgReshardConfig config, Findings findings) {
        ControlConfig control = config.control();
        if (control == null) {
            findings.warn(config.source() + " has no [control] section: reshard, run and proxy need one (url, user, "
                    + "password of the database that keeps the task registry)");
            return;
        }
        Properties props = new Properties();
        props.setProperty("user", control.user());
        props.setProperty("password", control.password().reveal());
        props.setProperty("connectTimeout", "10");
        try (Connection c = DriverManager.getConnection(control.url(), props); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("""
                     SELECT current_user, current_database(), current_schema(),
                            to_regclass('pgreshard_schema_history') IS NOT NULL,
                            current_schema() IS NOT NULL AND has_schema_privilege(current_schema(), 'CREATE')""")) {
            rs.next();
            String role = Identifiers.quote(rs.getString(1));
            if (rs.getString(3) == null) {
                findings.block("control store " + control.url() + ": user " + rs.getString(1) + " has no schema to "
                        + "create the task registry in (no schema of its search_path exists)",
                        "ALTER DATABASE " + Identifiers.quote(rs.getString(2)) + " OWNER TO " + role + ";");
            } else if (!rs.getBoolean(4) && !rs.getBoolean(5)) {
                findings.block("control store " + control.url() + ": user " + rs.getString(1) + " may not create the "
                        + "task registry's tables in schema " + rs.getString(3),
                        "GRANT CREATE ON SCHEMA " + Identifiers.quote(rs.getString(3)) + " TO " + role
                                + "; (or make it the database's owner: ALTER DATABASE "
                                + Identifiers.quote(rs.getString(2)) + " OWNER TO " + role + ";)");
            }
        } catch (SQLException e) {
            findings.block("control store " + control.url() + " cannot be reached as user " + control.user() + ": "
                    + firstLine(e.getMessage()), "check url, user and password in [control] and that the database "
                    + "exists (CREATE DATABASE ... OWNER ...;)");
        }
    }

    private static String firstLine(String message) {
        return message == null ? "" : message.lines().findFirst().orElse("");
    }
}
