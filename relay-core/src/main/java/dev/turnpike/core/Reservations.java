package dev.turnpike.core;

import java.util.HashMap;

/**
 * The relay ports held for RESERVATION-TOKENs (RFC 8656 §7.2), by token, where any relay that shares them can
 * claim one: a client's second Allocate, from another port, may reach another worker of the process than the
 * first (the kernel hashes the 5-tuple), and must still find its reserved port. The worker that reserved a port
 * sweeps it when it expires; a worker that claims it takes it out first, so exactly one of them has it.
 */
public sealed class Reservations permits Reservations.Shared {
    /** A port bound and held by no allocation: {@code owner} is the table that reserved it and sweeps it. */
    record Held(RelayEndpoint endpoint, boolean ipv6, long expiresAtNs, Object owner) {}

    private final HashMap<Long, Held> byToken = new HashMap<>();

    Reservations() {}

    /** For one relay's thread alone. */
    public static Reservations local() {
        return new Reservations();
    }

    /** For several relays on their own threads (the workers of one process): every call is serialised. */
    public static Reservations shared() {
        return new Shared();
    }

    void put(long token, Held held) {
        byToken.put(token, held);
    }

    /** The reservation of {@code token}, taken out: whoever gets it has it alone. Null if there is none. */
    Held take(long token) {
        return byToken.remove(token);
    }

    /** Takes out {@code held} if it is still there under {@code token}: false if someone claimed it first. */
    boolean takeIfUnclaimed(long token, Held held) {
        return byToken.remove(token, held);
    }

    /** Reservations held now, by every relay that shares them. */
    public int size() {
        return byToken.size();
    }

    /** The same map behind one lock: only an EVEN-PORT Allocate, a claim and an expiry take it. */
    static final class Shared extends Reservations {
        @Override
        synchronized void put(long token, Held held) {
            super.put(token, held);
        }

        @Override
        synchronized Held take(long token) {
            return super.take(token);
        }

        @Override
        synchronized boolean takeIfUnclaimed(long token, Held held) {
            return super.takeIfUnclaimed(token, held);
        }

        @Override
        public synchronized int size() {
            return super.size();
        }
    }
}
