package dev.pgreshard.core.config;

/**
 * {@code [general]} of pgreshard.toml. Every key has a default (docs/architecture.md §3), applied here so
 * that the rest of the code never sees a missing value.
 *
 * @param host                       address the proxy's data port binds to
 * @param port                       proxy data port (PostgreSQL wire protocol)
 * @param controlPort                HTTP control API of the proxy
 * @param controlBind                address the HTTP control API binds to (loopback by default)
 * @param cutoverPauseBudgetMs       abort the cutover (resume on the source) beyond this pause
 * @param cutoverLagThresholdBytes   RESHARD waits for replication lag under this before pausing
 * @param pgDumpPath                 explicit pg_dump binary; empty: PATH, then /usr/lib/postgresql/*&#47;bin
 * @param copyParallelism            tables/ranges copied at once; 0 = number of destination shards
 * @param copySplitThresholdBytes    tables larger than this are copied as several key ranges
 * @param tlsCertificate             PEM certificate for client TLS on the proxy; empty = no TLS
 * @param tlsPrivateKey              PEM private key matching {@code tls_certificate}
 */
public record GeneralConfig(
        String host,
        Integer port,
        Integer controlPort,
        String controlBind,
        Long cutoverPauseBudgetMs,
        Long cutoverLagThresholdBytes,
        String pgDumpPath,
        Integer copyParallelism,
        Long copySplitThresholdBytes,
        String tlsCertificate,
        String tlsPrivateKey) {

    public static final GeneralConfig DEFAULTS = new GeneralConfig(null, null, null, null, null, null, null, null,
            null, null, null);

    public GeneralConfig {
        host = host == null ? "127.0.0.1" : host;
        port = port == null ? 6432 : port;
        controlPort = controlPort == null ? 6433 : controlPort;
        controlBind = controlBind == null ? "127.0.0.1" : controlBind;
        cutoverPauseBudgetMs = cutoverPauseBudgetMs == null ? 1000L : cutoverPauseBudgetMs;
        cutoverLagThresholdBytes = cutoverLagThresholdBytes == null ? 1_048_576L : cutoverLagThresholdBytes;
        pgDumpPath = pgDumpPath == null ? "" : pgDumpPath;
        copyParallelism = copyParallelism == null ? 0 : copyParallelism;
        copySplitThresholdBytes = copySplitThresholdBytes == null ? 1L << 30 : copySplitThresholdBytes;
        tlsCertificate = tlsCertificate == null ? "" : tlsCertificate;
        tlsPrivateKey = tlsPrivateKey == null ? "" : tlsPrivateKey;
    }
}
