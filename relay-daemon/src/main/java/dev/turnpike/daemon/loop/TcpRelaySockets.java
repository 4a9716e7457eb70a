package dev.turnpike.daemon.loop;

import dev.turnpike.core.RelayEndpoint;
import java.net.InetSocketAddress;

/**
 * RFC 6062's sockets, the stream transport's to keep (a peer connection is paired with a client connection there):
 * a TCP relayed address's listening socket, the connections to and from peers, and what the core asks of them
 * ({@code Command.ConnectPeer}, {@code BindConnection}, {@code CloseConnection}, {@code PassConnection}). The relay
 * socket table and the courier reach them through this. Loop thread only.
 */
public interface TcpRelaySockets {
    /** Binds and listens on {@code endpoint.local()}; false if the port is taken. */
    boolean open(RelayEndpoint endpoint);

    /** Closes the relayed address's listening socket and every connection it holds, with paired clients. */
    void release(RelayEndpoint endpoint);

    /** Connects to {@code peer} from {@code relay}'s address; the core hears how it went. */
    void connect(RelayEndpoint relay, InetSocketAddress peer, int connectionId);

    /** The client connection of {@code client} on {@code listener} carries connection {@code connectionId} from now. */
    void bind(int listener, InetSocketAddress client, RelayEndpoint relay, int connectionId);

    /** Closes connection {@code connectionId} of {@code relay}, and its client's data connection if paired. */
    void close(RelayEndpoint relay, int connectionId);

    /** Hands the connection of {@code client} on {@code listener}, its request unread, to worker {@code worker}. */
    void pass(int listener, InetSocketAddress client, int worker);
}
