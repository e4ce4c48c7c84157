package dev.pgreshard.activities.control;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;

import java.util.List;

/** The proxy registry. */
@JdbcRepository(dialect = Dialect.POSTGRES)
public interface ProxyRepository extends GenericRepository<ProxyRow, String> {

    /** Registers the proxy or renews its heartbeat (a restarted proxy on the same address starts a new life). */
    @Query("""
            INSERT INTO pgreshard_proxy (control_url, host_name, process_id) VALUES (:controlUrl, :hostName, :processId)
            ON CONFLICT (control_url) DO UPDATE SET heartbeat_at = now(), host_name = EXCLUDED.host_name,
                process_id = EXCLUDED.process_id,
                started_at = CASE WHEN pgreshard_proxy.process_id = EXCLUDED.process_id
                                  THEN pgreshard_proxy.started_at ELSE now() END""")
    void heartbeat(String controlUrl, String hostName, long processId);

    /** Proxies that heartbeated within the last {@code maxAgeSeconds}. */
    @Query("SELECT * FROM pgreshard_proxy WHERE heartbeat_at > now() - make_interval(secs => :maxAgeSeconds) "
            + "ORDER BY control_url")
    List<ProxyRow> findLive(double maxAgeSeconds);

    List<ProxyRow> findAllOrderByControlUrl();

    void deleteById(String controlUrl);
}
