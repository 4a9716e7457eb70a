package dev.turnpike.core;

/**
 * The relay ports that live allocations hold now, per address family: what the relay's own address may be
 * reached on as a peer. Two clients of one relay reach each other's relayed addresses, which are the relay's own;
 * anything else listening there (in the relay-port range or not, a WireGuard on 51820, a host's own ephemeral
 * sockets) is no allocation and stays refused. A port counts from the moment an allocation has it until the
 * allocation releases it; a port only reserved by EVEN-PORT does not count until a RESERVATION-TOKEN claims it.
 *
 * <p>The workers of one process share one ({@link #shared}): a client on one worker may name an allocation that
 * another holds. Only an allocation's start and end write here; a relayed datagram reads it only when its peer is
 * the relay's own address.
 */
public sealed class LiveRelayPorts permits LiveRelayPorts.Shared {
    private final boolean[] ipv4 = new boolean[65_536];
    private final boolean[] ipv6 = new boolean[65_536];

    LiveRelayPorts() {}

    /** For one relay's thread alone. */
    public static LiveRelayPorts local() {
        return new LiveRelayPorts();
    }

    /** For several relays on their own threads (the workers of one process): every call is serialised. */
    public static LiveRelayPorts shared() {
        return new Shared();
    }

    void hold(boolean v6, int port) {
        (v6 ? ipv6 : ipv4)[port] = true;
    }

    void release(boolean v6, int port) {
        (v6 ? ipv6 : ipv4)[port] = false;
    }

    /** Whether a live allocation of this process holds {@code port} in the family. */
    public boolean isLive(boolean v6, int port) {
        return port >= 0 && port < 65_536 && (v6 ? ipv6 : ipv4)[port];
    }

    /** The same table behind one lock: allocations start and end rarely beside packets. */
    static final class Shared extends LiveRelayPorts {
        @Override
        synchronized void hold(boolean v6, int port) {
            super.hold(v6, port);
        }

        @Override
        synchronized void release(boolean v6, int port) {
            super.release(v6, port);
        }

        @Override
        public synchronized boolean isLive(boolean v6, int port) {
            return super.isLive(v6, port);
        }
    }
}
