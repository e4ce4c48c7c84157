package dev.pgreshard.cli;

import dev.pgreshard.core.config.GeneralConfig;
import dev.pgreshard.core.config.PgReshardConfig;
import picocli.CommandLine.Option;

/**
 * {@code --host}, {@code --port}, {@code --control-port} of {@code proxy} and {@code run}: override
 * {@code [general]} for this process, so several proxies run from one config file.
 */
public class ProxyAddressOptions {
    @Option(names = "--host", paramLabel = "ADDRESS",
            description = "address the proxy's data port binds to (overrides [general] host)")
    String host;

    @Option(names = "--port", paramLabel = "PORT",
            description = "the proxy's PostgreSQL port (overrides [general] port)")
    Integer port;

    @Option(names = "--control-port", paramLabel = "PORT",
            description = "the proxy's HTTP control API port (overrides [general] control_port)")
    Integer controlPort;

    /** {@code config} with the given overrides applied, checked as the file's values are. */
    public PgReshardConfig apply(PgReshardConfig config) {
        if (host == null && port == null && controlPort == null) {
            return config;
        }
        if (host != null && host.isBlank()) {
            throw new BadInputException("--host is empty; give an address such as 127.0.0.1 or 0.0.0.0");
        }
        checkPort("--port", port);
        checkPort("--control-port", controlPort);
        GeneralConfig general = config.general().withProxyAddress(host, port, controlPort);
        if (general.port().equals(general.controlPort())) {
            throw new BadInputException("the proxy port and the control port are both " + general.port()
                    + " (from --port/--control-port or [general]); give them different values");
        }
        return config.withGeneral(general);
    }

    private static void checkPort(String option, Integer value) {
        if (value != null && (value < 1 || value > 65535)) {
            throw new BadInputException(option + " is " + value + "; use a TCP port between 1 and 65535");
        }
    }
}
