package dev.pgreshard.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The command line builds the model of the subcommand asked for only, and of all of them when none is named. */
class CommandLineModelTest {

    @Test
    void aNamedSubcommandIsTheOnlyOneBuilt() {
        CommandLine cl = PgReshardCommand.newCommandLine(CommandLine.defaultFactory(), "data-sync", "--help");
        assertEquals(Set.of("data-sync"), cl.getSubcommands().keySet());
    }

    @Test
    void noSubcommandNamedBuildsThemAll() {
        int all = PgReshardCommand.SUBCOMMANDS.size();
        for (String[] args : new String[][] {{}, {"--help"}, {"help", "data-sync"}, {"datasync"}}) {
            CommandLine cl = PgReshardCommand.newCommandLine(CommandLine.defaultFactory(), args);
            // aliases add keys of their own: at least one key per subcommand
            assertTrue(cl.getSubcommands().size() >= all, String.join(" ", args) + ": " + cl.getSubcommands().keySet());
        }
    }

    @Test
    void helpAndMistypedNamesStillSeeEverySubcommand() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int rc = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), "help", "data-sync");
        assertEquals(0, rc, err.toString());
        assertTrue(out.toString().startsWith("Usage: pgreshard data-sync"), out.toString());

        out.getBuffer().setLength(0);
        rc = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), "--help");
        assertEquals(0, rc);
        for (String name : new String[] {"demo", "proxy", "data-sync", "recover-prepared"}) {
            assertTrue(out.toString().contains("  " + name + " "), name + " missing from:\n" + out);
        }

        rc = PgReshardCommand.execute(new PrintWriter(out, true), new PrintWriter(err, true), "datasync");
        assertEquals(2, rc);
        assertTrue(err.toString().contains("unknown command 'datasync'") && err.toString().contains("data-sync"), err.toString());
    }
}
