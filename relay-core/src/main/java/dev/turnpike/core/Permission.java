package dev.turnpike.core;

import dev.turnpike.core.policy.PeerPolicy;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** RFC 8656 §9: lets datagrams from one peer IP (any port) reach the client, and Send go to it. */
final class Permission {
    static final long LIFETIME_NS = 300_000_000_000L;

    final InetAddress peer;
    /** The peer IP as an int (IPv4) or its 16 bytes (IPv6), kept so Data indications need no copy of it. */
    final int ipv4;

    final byte[] ipv6;
    /** The peer IP is one of the relay's own: only ports live allocations hold may be reached (see PeerPolicy). */
    final boolean self;
    /** For a {@code self} peer: whether its relay ports are the IPv6 ones ({@link PeerPolicy#selfIsIpv6}). */
    final boolean selfIpv6;

    long expiresAtNs;
    /** The last peer transport address sent to under this permission: reused while the port stays the same. */
    private InetSocketAddress destination;

    Permission(InetAddress peer, boolean self, long expiresAtNs) {
        this.peer = peer;
        byte[] raw = peer.getAddress();
        this.ipv4 = raw.length == 4
                ? ((raw[0] & 0xFF) << 24) | ((raw[1] & 0xFF) << 16) | ((raw[2] & 0xFF) << 8) | (raw[3] & 0xFF)
                : 0;
        this.ipv6 = raw.length == 16 ? raw : null;
        this.self = self;
        this.selfIpv6 = PeerPolicy.selfIsIpv6(peer);
        this.expiresAtNs = expiresAtNs;
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
