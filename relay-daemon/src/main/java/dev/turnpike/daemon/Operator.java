package dev.turnpike.daemon;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Command;
import dev.turnpike.daemon.cli.RelayOptions;
import dev.turnpike.daemon.cli.StartupException;
import dev.turnpike.daemon.http.OperatorActions;
import dev.turnpike.daemon.http.RecentRefusals;
import dev.turnpike.daemon.http.StatusFacts;
import dev.turnpike.daemon.http.StatusHistory;
import dev.turnpike.daemon.usage.UsageReport;
import dev.turnpike.daemon.usage.UsageTable;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;

/**
 * The operator's hand on the running relay, behind the admin endpoints: an allocation ended, a credential revoked
 * or its revocation lifted, on every worker. A revocation is on disk ({@link RevocationFile}) before any worker
 * applies it, so that what the relay enforces is what a restart will.
 */
final class Operator implements OperatorActions {
    /** How long a worker may take to carry out an action: it runs at the loop's next iteration. */
    private static final long TIMEOUT_SECONDS = 5;

    private final Workers workers;
    private final RevocationFile revocations;
    private final UsageTable usage;
    private final StatusHistory history;
    private final RecentRefusals refusals;
    private final List<String> listeners;

    Operator(
            Workers workers,
            RevocationFile revocations,
            UsageTable usage,
            StatusHistory history,
            RecentRefusals refusals,
            List<String> listeners) {
        this.workers = workers;
        this.revocations = revocations;
        this.usage = usage;
        this.history = history;
        this.refusals = refusals;
        this.listeners = List.copyOf(listeners);
    }

    /**
     * The operator's parts for a process about to start: the revocations kept (applied to every worker now), the
     * usage table and the last refusals (which every worker's courier tells of what it carries out), the history
     * the status page draws (sampled once {@link #startHistory} is called).
     */
    static Operator create(Workers workers, RelayOptions options, List<String> listeners, Logger log) {
        UsageTable usage = new UsageTable(options.usageTop);
        RecentRefusals refusals = new RecentRefusals(20);
        workers.onCarriedOut(command -> {
            if (command instanceof Command.AllocationEvent event) {
                usage.record(event);
            } else {
                refusals.heard(command);
            }
        });
        return new Operator(
                workers, revocations(options, workers, log), usage, new StatusHistory(), refusals, listeners);
    }

    /** Samples the loops' counters for the status page from now on. */
    void startHistory() {
        history.start(workers::published);
    }

    /**
     * The revocations kept in --state-dir (or systemd's $STATE_DIRECTORY), applied to every worker before it
     * starts; one line says where they are kept and how many are in force.
     */
    static RevocationFile revocations(RelayOptions options, Workers workers, Logger log) {
        String systemd = System.getenv("STATE_DIRECTORY");
        java.nio.file.Path dir = options.stateDir != null
                ? options.stateDir
                : systemd == null || systemd.isBlank() ? null : java.nio.file.Path.of(systemd.split(":")[0]);
        RevocationFile file;
        try {
            file = RevocationFile.open(dir);
        } catch (IOException | RuntimeException e) {
            throw new StartupException("--state-dir " + dir + ": " + e.getMessage(), 2);
        }
        java.util.Map<String, Long> inForce = file.inForce(System.currentTimeMillis() / 1000);
        workers.revokeBeforeStart(inForce);
        log.atInfo()
                .addKeyValue("kept", file.where())
                .addKeyValue("inForce", inForce.size())
                .log("revocations");
        return file;
    }

    @Override
    public StatusFacts statusFacts(List<AllocationSummary> live) {
        List<UsageReport.Row> tags = usage.report(live).tags();
        return new StatusFacts(
                workers.count(),
                listeners,
                history.samples(),
                tags.subList(0, Math.min(tags.size(), 10)),
                refusals.latestFirst());
    }

    @Override
    public String usage(boolean csv) throws Exception {
        UsageReport report = usage.report(workers.allocations().get(TIMEOUT_SECONDS, TimeUnit.SECONDS));
        return csv ? report.csv() : report.json();
    }

    @Override
    public boolean end(long id, String by) throws Exception {
        return workers.endAllocation(id).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public int revoke(String name, long untilEpochSeconds, String by) throws Exception {
        revocations.revoke(name, untilEpochSeconds); // first: kept, or refused whole
        return workers.revoke(name, untilEpochSeconds).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }

    @Override
    public boolean lift(String name, String by) throws Exception {
        boolean kept = revocations.lift(name);
        boolean applied = workers.liftRevocation(name).get(TIMEOUT_SECONDS, TimeUnit.SECONDS) > 0;
        return kept || applied;
    }

    @Override
    public Map<String, Long> revocations() {
        return revocations.inForce(System.currentTimeMillis() / 1000);
    }

    @Override
    public boolean persistent() {
        return revocations.persistent();
    }
}
