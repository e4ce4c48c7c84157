package dev.pgreshard.core.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The one meter registry of this JVM. The proxy and the worker's activities publish into it (under
 * {@code pgreshard run} both live in one process), and whoever serves {@code GET /metrics} (the
 * proxy's control API, or the worker's metrics port) scrapes it. A static holder rather than a DI
 * bean because activities and the proxy are created outside Micronaut's context, and because a
 * second registry would silently split the numbers.
 *
 * <p>Meter names are dotted here and converted by Micrometer's Prometheus naming convention:
 * {@code pgreshard.copy.rows} (a counter) is scraped as {@code pgreshard_copy_rows_total}, a timer
 * {@code pgreshard.cutover.pause} as {@code pgreshard_cutover_pause_seconds_*}. Labels never carry
 * secrets: database, cluster and task names, shard numbers and error kinds only.
 */
public final class Metrics {
    /** Prometheus text exposition format 0.0.4, what {@link #scrape()} returns. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final PrometheusMeterRegistry REGISTRY = create();

    private Metrics() {
    }

    private static PrometheusMeterRegistry create() {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        return registry;
    }

    public static MeterRegistry registry() {
        return REGISTRY;
    }

    /** Every meter of this JVM in the Prometheus text format ({@link #CONTENT_TYPE}). */
    public static String scrape() {
        return REGISTRY.scrape();
    }
}
