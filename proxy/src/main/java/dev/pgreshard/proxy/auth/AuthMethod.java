package dev.pgreshard.proxy.auth;

import java.util.Locale;

/** How the proxy asks clients for their password. Trust is deliberately absent. */
public enum AuthMethod {
    SCRAM_SHA_256("scram-sha-256"),
    MD5("md5");

    private final String configName;

    AuthMethod(String configName) {
        this.configName = configName;
    }

    public String configName() {
        return configName;
    }

    public static AuthMethod parse(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        for (AuthMethod m : values()) {
            if (m.configName.equals(t)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown authentication method '" + text + "'; use scram-sha-256 or md5");
    }
}
