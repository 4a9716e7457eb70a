package dev.turnpike.daemon.stream;

import dev.turnpike.core.RelayEndpoint;
import dev.turnpike.daemon.loop.LoopCounters;
import java.nio.channels.SocketChannel;

/**
 * RFC 6062: a TCP connection between a TCP relayed address and a peer, opened by a Connect or accepted from the
 * peer. Nothing is read from the peer until a client data connection is bound to it (what the peer sends meanwhile
 * waits in the kernel, and TCP holds the peer back); then it is a {@link Passage} like any other.
 */
final class PeerConnection extends Passage {
    final RelayEndpoint relay;
    final int id;

    /** No idle timeout: RFC 6062 ties a connection's life to its allocation's and to the two sides'. */
    PeerConnection(RelayEndpoint relay, int id, SocketChannel peer) {
        super(null, peer, 0);
        this.relay = relay;
        this.id = id;
    }

    @Override
    void moved(LoopCounters counters, boolean toOther, int bytes) {
        if (toOther) {
            counters.tcpRelayBytesToPeers += bytes;
        } else {
            counters.tcpRelayBytesFromPeers += bytes;
        }
    }

    @Override
    LoopCounters.StreamClose endedReason() {
        return LoopCounters.StreamClose.PEER_CLOSED;
    }
}
