package dev.turnpike.core;

import java.net.InetAddress;
import java.net.InetSocketAddress;

/** RFC 8656 §9: lets datagrams from one peer IP (any port) reach the client, and Send go to it. */
final class Permission {
    static final long LIFETIME_NS = 300_000_000_000L;

    final InetAddress peer;
    /** The peer IP as an int (IPv4) or its 16 bytes (IPv6), kept so Data indications need no copy of it. */
    final int ipv4;

    final byte[] ipv6;
    /**
     * The peer IP is one of the relay's relayed addresses ({@link SameRelay}): a port a live allocation holds is
     * delivered inside; any other is an ordinary peer, as {@link #policyAllows} says.
     */
    final boolean self;
    /** What the peer policy says of this IP (updated by a reload): for a {@code self} IP on a port no allocation holds. */
    boolean policyAllows;

    long expiresAtNs;
    /** The last peer transport address sent to under this permission: reused while the port stays the same. */
    private InetSocketAddress destination;
    /** The same for another worker's allocation, reached at the relay's bound address. */
    private InetSocketAddress bound;

    Permission(InetAddress peer, boolean self, boolean policyAllows, long expiresAtNs) {
        this.peer = peer;
        byte[] raw = peer.getAddress();
        this.ipv4 = raw.length == 4
                ? ((raw[0] & 0xFF) << 24) | ((raw[1] & 0xFF) << 16) | ((raw[2] & 0xFF) << 8) | (raw[3] & 0xFF)
                : 0;
        this.ipv6 = raw.length == 16 ? raw : null;
        this.self = self;
        this.policyAllows = policyAllows;
        this.expiresAtNs = expiresAtNs;
    }

    /** A {@code self} permission's relayed address at {@code port} in its bound form {@code local}: cached. */
    InetSocketAddress bound(InetAddress local, int port) {
        InetSocketAddress last = bound;
        if (last == null || last.getPort() != port) {
            last = new InetSocketAddress(local, port);
            bound = last;
        }
        return last;
    }

    /** The peer transport address at {@code port}; the same object as last time when the port is the same. */
    InetSocketAddress destination(int port) {
        InetSocketAddress last = destination;
        if (last == null || last.getPort() != port) {
            last = new InetSocketAddress(peer, port);
            destination = last;
        }
        return last;
    }
}
