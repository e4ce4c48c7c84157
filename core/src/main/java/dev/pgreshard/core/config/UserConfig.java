package dev.pgreshard.core.config;

/**
 * One {@code [[users]]} entry of users.toml: what a client uses to log in to the proxy for
 * {@code database}, and what the proxy and worker use to reach that cluster (unless
 * {@code server_user}/{@code server_password} say otherwise).
 */
public record UserConfig(String name, String database, Secret password, String serverUser, Secret serverPassword) {

    /**
     * Who this entry is on the servers of {@link #database()}: server_user/server_password, else its
     * own name and password. The proxy logs the entry's clients in as this; the worker uses the
     * first entry's (see {@link PgReshardConfig#serverCredentials}).
     */
    public Credentials serverCredentials() {
        String user = serverUser == null || serverUser.isEmpty() ? name : serverUser;
        Secret secret = serverPassword == null ? password : serverPassword;
        return new Credentials(user, secret);
    }
}
