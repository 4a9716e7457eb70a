package dev.turnpike.daemon.http;

import java.util.Map;

/**
 * What the operator's admin endpoints do to the relay (and the little they read of the process): end one allocation, revoke a credential or lift a
 * revocation. Each is applied by every worker before it returns, and a revocation is on disk (with {@code
 * --state-dir}) before any worker applies it.
 */
public interface OperatorActions {
    /** Ends allocation {@code id}; whether one did. {@code by}: who asked, for the log. */
    boolean end(long id, String by) throws Exception;

    /**
     * Revokes {@code name} (a username, or the name of {@code EXPIRY:name[:tag]} credentials) until {@code
     * untilEpochSeconds}; answers how many allocations ended.
     */
    int revoke(String name, long untilEpochSeconds, String by) throws Exception;

    /** Lifts the revocation of {@code name}; whether there was one. */
    boolean lift(String name, String by) throws Exception;

    /** The revocations in force, by name: when each ends (epoch seconds, or Revocations.FOREVER). */
    Map<String, Long> revocations();

    /** Usage by tag and by name so far, live allocations included: JSON, or CSV when {@code csv}. */
    String usage(boolean csv) throws Exception;

    /** What the status page shows that only the process knows, with {@code live} the allocations as they stand. */
    StatusFacts statusFacts(java.util.List<dev.turnpike.core.AllocationSummary> live) throws Exception;

    /** Whether revocations outlive the process (--state-dir). */
    boolean persistent();
}
