package dev.turnpike.daemon.loop;

import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;

/**
 * Something another thread asks of the core (the operator ending an allocation, revoking a credential), run on the
 * loop with its clocks; what the core puts in {@code out} is carried out as for any input.
 */
@FunctionalInterface
public interface CoreAction<T> {
    T apply(Relay relay, long nowNs, long epochSeconds, Outbox out);
}
