package dev.turnpike.core;

import java.net.InetSocketAddress;

/** RFC 8656 §12: a channel number stands for one peer transport address, both ways, for 10 minutes. */
final class ChannelBinding {
    static final long LIFETIME_NS = 600_000_000_000L;

    final int number;
    final InetSocketAddress peer;
    long expiresAtNs;
    /**
     * The permission of {@link #peer}'s IP as last looked up, so that a ChannelData message need not look it up
     * again: valid while live, since a permission is refreshed in place and one taken out of the map is marked
     * expired ({@link Allocation#drop}).
     */
    Permission permission;

    ChannelBinding(int number, InetSocketAddress peer, long expiresAtNs) {
        this.number = number;
        this.peer = peer;
        this.expiresAtNs = expiresAtNs;
    }
}
