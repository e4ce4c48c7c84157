package dev.pgreshard.cli;

import dev.pgreshard.workflows.TaskRef;
import picocli.CommandLine.Parameters;

/** {@code SRC DST PUB}: the three positional arguments of every command that moves data. */
public class TaskArguments {
    @Parameters(index = "0", paramLabel = "SRC", description = "source cluster ([[databases]] name)")
    public String source;

    @Parameters(index = "1", paramLabel = "DST", description = "destination cluster")
    public String destination;

    @Parameters(index = "2", paramLabel = "PUB", description = "publication on the source listing the tables")
    public String publication;

    /** A task reference named {@code <kind>-<src>-<dst>} for the foreground commands. */
    public TaskRef task(String kind) {
        return new TaskRef(kind + "-" + source + "-" + destination, source, destination, publication);
    }
}
