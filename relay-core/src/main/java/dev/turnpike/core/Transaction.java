package dev.turnpike.core;

import dev.turnpike.core.stun.StunMessage;
import java.net.InetSocketAddress;

/**
 * One STUN request being answered (RFC 8489 §6.3): the request, when it arrived, on which listener, from which
 * client, who it proved to be (once authenticated), and the outbox its answer goes to. The handlers of the TURN
 * methods take it whole instead of five arguments each; they answer success themselves and return a {@link
 * Refused} for {@code Relay} to answer. One per relay, reused for every request: the control plane allocates its
 * records, not this.
 */
final class Transaction {
    final StunMessage request;
    long nowNs;
    long epochSeconds;
    int listener;
    InetSocketAddress client;
    Outbox out;
    /** Who the request proved to be; null before (or without) authentication. */
    RequestAuthentication.Authenticated who;

    Transaction(StunMessage request) {
        this.request = request;
    }

    /** A new request from {@code client} on {@code listener}, its answer for {@code out}. */
    Transaction begin(long nowNs, long epochSeconds, int listener, InetSocketAddress client, Outbox out) {
        this.nowNs = nowNs;
        this.epochSeconds = epochSeconds;
        this.listener = listener;
        this.client = client;
        this.out = out;
        this.who = null;
        return this;
    }
}
