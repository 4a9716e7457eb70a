package dev.turnpike.core;

import java.net.InetSocketAddress;

/**
 * A control-plane effect the core asks the event loop to carry out. Sealed, so that the loop's exhaustive
 * {@code switch} stops compiling when a new effect is added and not yet handled.
 */
public sealed interface Command {

    /**
     * Send {@code bytes} to {@code client} from listening socket {@code listener}. For an error response,
     * {@code refusal} says what was refused and why, in words for the operator's DEBUG log (the client sees only
     * the code); null otherwise.
     */
    record SendToClient(int listener, InetSocketAddress client, byte[] bytes, Refusal refusal) implements Command {}

    /** A request refused: its method, the error code answered, and why. */
    record Refusal(int method, int code, String reason) {}

    /**
     * Something happened to an allocation that an operator reads in the log: who, from where, through which
     * relayed addresses, and what it moved. Nothing to carry out.
     */
    record AllocationEvent(
            AllocationEvent.Kind kind,
            String user,
            InetSocketAddress client,
            InetSocketAddress relayedIpv4,
            InetSocketAddress relayedIpv6,
            long lifetimeSeconds,
            long ageSeconds,
            long packetsToPeers,
            long bytesToPeers,
            long packetsToClient,
            long bytesToClient)
            implements Command {
        public enum Kind {
            CREATED,
            REFRESHED,
            DELETED,
            EXPIRED,
            /** Its client's TCP or TLS connection closed: RFC 8656 §3.1 ties an allocation to its 5-tuple. */
            CLOSED,
            /** The operator ended it (DELETE /allocations/{id}, {@code turnpike admin end}). */
            ENDED,
            /** The operator revoked the credentials it was made with. */
            REVOKED
        }
    }

    /**
     * The relay socket is no longer used: deregister and close it; its port returns to the pool. For a TCP relayed
     * address (RFC 6062) its listening socket closes, and every connection to a peer it holds with the client's
     * data connection paired to it.
     */
    record CloseRelay(RelayEndpoint relay) implements Command {}

    /**
     * RFC 6062 Connect: open a TCP connection to {@code peer} from {@code relay}'s address, without waiting for it;
     * tell the core how it went ({@link Relay#onPeerConnected}) under {@code connectionId}. The core times it out.
     */
    record ConnectPeer(RelayEndpoint relay, InetSocketAddress peer, int connectionId) implements Command {}

    /**
     * RFC 6062 ConnectionBind succeeded: from the response on (it is already queued), the connection of {@code
     * client} on {@code listener} carries raw bytes both ways to the peer connection {@code connectionId} of
     * {@code relay}. Nothing it sends is read as STUN any more.
     */
    record BindConnection(int listener, InetSocketAddress client, RelayEndpoint relay, int connectionId)
            implements Command {}

    /**
     * The peer connection {@code connectionId} of {@code relay} is done with (no ConnectionBind in time, or timed
     * out connecting): close it, and the client's data connection paired with it if any.
     */
    record CloseConnection(RelayEndpoint relay, int connectionId) implements Command {}

    /**
     * A ConnectionBind for a peer connection that another worker of the process holds ({@code worker}, counted as
     * the relay ports are shared): the connection of {@code client} on {@code listener}, with the request still
     * unread, goes to that worker, whose core answers it. Nothing was answered here.
     */
    record PassConnection(int listener, InetSocketAddress client, int worker) implements Command {}
}
