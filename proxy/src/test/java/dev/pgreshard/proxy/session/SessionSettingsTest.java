package dev.pgreshard.proxy.session;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The SET statements kept for replay: one per setting, latest wins, RESET and transaction-local ones dropped. */
class SessionSettingsTest {
    @Test
    void keepsTheLatestStatementPerSetting() {
        SessionSettings s = new SessionSettings();
        for (String sql : List.of("SET statement_timeout = 1000", "set search_path TO app, public", "SET work_mem='64MB'",
                "SET LOCAL lock_timeout = 5", "set Statement_Timeout to 2000", "RESET work_mem", "SET TRANSACTION READ ONLY")) {
            s.record(sql);
        }
        assertEquals(List.of("set search_path TO app, public", "set Statement_Timeout to 2000"), s.all());
        for (int i = 0; i < 1000; i++) {
            s.record("SET application_name = 'client " + i + "'");
        }
        assertEquals(3, s.all().size(), "a client setting a value over and over keeps one entry");
        s.record("DISCARD ALL");
        assertEquals(List.of(), s.all());
    }
}
