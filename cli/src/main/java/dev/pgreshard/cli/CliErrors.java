package dev.pgreshard.cli;

import dev.pgreshard.activities.catalog.UnknownPublicationException;
import dev.pgreshard.activities.preflight.PlanBlockedException;
import dev.pgreshard.activities.preflight.PlanText;
import dev.pgreshard.core.config.ConfigException;
import io.micronaut.context.exceptions.BeanContextException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Turns every failure into one line on stderr, {@code pgreshard: <reason>}, and an exit code:
 * {@value #BAD_INPUT} for bad input (arguments, config, values), {@value #FAILED} for anything else.
 * The stack trace goes to the debug log only.
 */
final class CliErrors implements CommandLine.IExecutionExceptionHandler, CommandLine.IParameterExceptionHandler {
    static final int FAILED = 1;
    static final int BAD_INPUT = 2;
    private static final Logger LOG = LoggerFactory.getLogger(CliErrors.class);

    @Override
    public int handleExecutionException(Exception thrown, CommandLine cmd, CommandLine.ParseResult parsed) {
        LOG.debug("command failed", thrown);
        Throwable e = unwrap(thrown);
        if (e instanceof PlanBlockedException blocked) {
            // a refused reshard shows the same report as `plan`, every problem with its fix, then the reason
            cmd.getErr().print(PlanText.render(blocked.report()));
        }
        cmd.getErr().println("pgreshard: " + oneLine(e));
        return e instanceof ConfigException || e instanceof BadInputException || e instanceof UnknownPublicationException
                ? BAD_INPUT : FAILED;
    }

    @Override
    public int handleParseException(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String help = " (see: " + cmd.getCommandSpec().qualifiedName() + " --help)";
        if (e instanceof CommandLine.UnmatchedArgumentException u && !cmd.getSubcommands().isEmpty()
                && !u.getUnmatched().isEmpty() && !u.getUnmatched().get(0).startsWith("-")) {
            // picocli would list every unmatched word; the operator needs the one that is not a command
            cmd.getErr().println("pgreshard: unknown command '" + u.getUnmatched().get(0) + "'; the commands are: "
                    + String.join(", ", cmd.getSubcommands().keySet()) + help);
            return BAD_INPUT;
        }
        cmd.getErr().println("pgreshard: " + oneLine(e) + help);
        return BAD_INPUT;
    }

    /** Micronaut wraps a factory's exception in its own; the user needs ours, which names the fix. */
    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while (t instanceof BeanContextException && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replace('\n', ' ').strip();
    }
}
