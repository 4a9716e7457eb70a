package dev.turnpike.daemon.stream;

import dev.turnpike.core.RelayEndpoint;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.util.HashMap;

/** RFC 6062: a TCP allocation's relayed address, listening for peers, with its connections to peers by id. */
final class TcpRelayListener {
    final RelayEndpoint relay;
    final ServerSocketChannel server;
    SelectionKey key;
    final HashMap<Integer, PeerConnection> connections = new HashMap<>(4);

    TcpRelayListener(RelayEndpoint relay, ServerSocketChannel server) {
        this.relay = relay;
        this.server = server;
    }
}
