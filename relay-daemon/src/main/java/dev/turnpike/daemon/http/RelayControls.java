package dev.turnpike.daemon.http;

import dev.turnpike.daemon.loop.LoopSnapshot;

/** What the lifecycle and admin endpoints read and act on: the relay's {@code Lifecycle} and {@code Reload}. */
public interface RelayControls {
    /** GET /readyz; see {@code Lifecycle.ready}. */
    boolean ready(LoopSnapshot snapshot, long nowNs);

    boolean draining();

    /** POST /drain: starts a drain; false if one is already under way. */
    boolean drain(String trigger);

    /** POST /reload. */
    ReloadOutcome reload(String trigger);

    /** The lifecycle's own lines for /metrics: draining, reloads. */
    String metrics();
}
