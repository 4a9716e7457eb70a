package dev.turnpike.daemon;

import dev.turnpike.daemon.http.OperatorActions;
import dev.turnpike.daemon.usage.UsageReport;
import dev.turnpike.daemon.usage.UsageTable;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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

    Operator(Workers workers, RevocationFile revocations, UsageTable usage) {
        this.workers = workers;
        this.revocations = revocations;
        this.usage = usage;
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
