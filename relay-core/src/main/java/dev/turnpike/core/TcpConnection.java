package dev.turnpike.core;

import java.net.InetSocketAddress;

/**
 * RFC 6062 §5: one TCP connection between a TCP allocation's relayed address and a peer, from the Connect (or
 * the peer's connect) until the client's data connection is bound to it and after. Its id is the CONNECTION-ID.
 */
final class TcpConnection {
    enum State {
        /** Connect asked; the loop is connecting to the peer. */
        CONNECTING,
        /** Connected (either way); a ConnectionBind must come within 30 s (RFC 6062 §5.2, §5.3). */
        AWAITING_BIND,
        /** A client data connection is bound to it: bytes flow in the loop alone. */
        BOUND
    }

    final int id;
    final Allocation allocation;
    final RelayEndpoint relay;
    final InetSocketAddress peer;
    State state;
    /** When the current state ends unless something happens: the connect's or the bind's timeout. */
    long deadlineNs;
    /** The Connect's two possible answers, signed with the request's key, for when the loop says how it went. */
    byte[] connected;

    byte[] failed;

    TcpConnection(int id, Allocation allocation, RelayEndpoint relay, InetSocketAddress peer, State state) {
        this.id = id;
        this.allocation = allocation;
        this.relay = relay;
        this.peer = peer;
        this.state = state;
    }
}
