package dev.pgreshard.cli;

import picocli.CommandLine;

/** The version from the jar manifest (falls back to "dev" when run from classes). */
class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = PgReshardCommand.class.getPackage().getImplementationVersion();
        return new String[] {"pgreshard " + (v == null ? "dev" : v)};
    }
}
