package dev.pgreshard.activities.preflight;

/**
 * {@code reshard} refused before creating anything: the plan found blocking problems. The message
 * is one line; {@link #report()} has every problem with its fix.
 */
public class PlanBlockedException extends IllegalStateException {
    private final transient PlanReport report;

    public PlanBlockedException(PlanReport report) {
        super("reshard " + report.source() + " " + report.destination() + " " + report.publication() + " refused: "
                + report.blockers().size() + " blocking problem" + (report.blockers().size() == 1 ? "" : "s")
                + " (each listed with its fix); nothing was created. Fix them and check with `pgreshard plan "
                + report.source() + " " + report.destination() + " " + report.publication() + "`");
        this.report = report;
    }

    public PlanReport report() {
        return report;
    }
}
