package dev.turnpike.daemon.loop;

import dev.turnpike.core.RelayEndpoint;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/** What a transport of clients hands the loop: messages framed from a client on a listener, and clients gone. */
public interface ClientInput {
    /**
     * A framed STUN or ChannelData message from {@code client} on {@code listener}: {@code length} bytes at {@code
     * offset}, arrived with TOS byte / Traffic Class {@code trafficClass} (0 when not known).
     */
    void message(int listener, InetSocketAddress client, ByteBuffer buffer, int offset, int length, int trafficClass);

    /** {@code client}'s connection on {@code listener} has closed; its allocation ends with it. */
    void closed(int listener, InetSocketAddress client);

    /** RFC 6062: the connect to a peer for {@code connectionId} finished; answers whether to keep the connection. */
    boolean peerConnected(RelayEndpoint relay, int connectionId, boolean ok);

    /** RFC 6062: a peer connected to {@code relay}; answers its CONNECTION-ID, or 0 to close it. */
    int peerAccepted(RelayEndpoint relay, InetSocketAddress peer);

    /** RFC 6062: the loop closed connection {@code connectionId} (either side): the core forgets it. */
    void connectionClosed(RelayEndpoint relay, int connectionId);
}
