package dev.turnpike.core;

import java.net.InetSocketAddress;

/** RFC 8656 §12: a channel number stands for one peer transport address, both ways, for 10 minutes. */
final class ChannelBinding {
    static final long LIFETIME_NS = 600_000_000_000L;

    final int number;
    final InetSocketAddress peer;
    long expiresAtNs;

    ChannelBinding(int number, InetSocketAddress peer, long expiresAtNs) {
        this.number = number;
        this.peer = peer;
        this.expiresAtNs = expiresAtNs;
    }
}
