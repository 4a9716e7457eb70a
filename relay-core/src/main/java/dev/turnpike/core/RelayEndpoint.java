package dev.turnpike.core;

import java.net.InetSocketAddress;

/**
 * One relay transport address of an allocation: the socket the loop binds for it and reads peers' datagrams
 * from. Identity is the object itself; the loop keeps it as the socket's attachment. A port reserved by
 * EVEN-PORT is an endpoint of no allocation until a RESERVATION-TOKEN claims it.
 */
public final class RelayEndpoint {
    private final InetSocketAddress local;
    private final InetSocketAddress advertised;
    /** The allocation it serves; null while the port is only reserved. */
    final Allocation allocation;

    final boolean dontFragment;
    /** RFC 6062: a TCP relayed address (a listening socket, and connections to peers), not a UDP socket. */
    final boolean tcp;
    /**
     * The last peer transport address a datagram came from, with its permission and channel (null: none then),
     * so that a peer sending again (the same object, from the loop's address cache) is not looked up in two maps
     * again. Valid while the permission is live: permissions and channels are refreshed in place, one taken out
     * is marked expired, and a new channel clears it ({@link Allocation#addChannel}).
     */
    InetSocketAddress lastPeer;

    Permission lastPermission;
    ChannelBinding lastChannel;

    RelayEndpoint(InetSocketAddress local, InetSocketAddress advertised, Allocation allocation, boolean dontFragment) {
        this(local, advertised, allocation, dontFragment, false);
    }

    RelayEndpoint(
            InetSocketAddress local,
            InetSocketAddress advertised,
            Allocation allocation,
            boolean dontFragment,
            boolean tcp) {
        this.tcp = tcp;
        this.local = local;
        this.advertised = advertised;
        this.allocation = allocation;
        this.dontFragment = dontFragment;
    }

    /**
     * True for a port held for a RESERVATION-TOKEN, by no allocation yet: the loop may leave its socket unread,
     * and with several workers any of them may adopt it.
     */
    public boolean reserved() {
        return allocation == null;
    }

    /** True when the client asked for DONT-FRAGMENT: the socket should set the IP DF bit. */
    public boolean dontFragment() {
        return dontFragment;
    }

    /**
     * True for an RFC 6062 TCP allocation's relayed address: the loop listens there for peers, connects to peers
     * from it when asked ({@link Command.ConnectPeer}), and it carries no datagrams.
     */
    public boolean tcp() {
        return tcp;
    }

    /** The address the socket binds. */
    public InetSocketAddress local() {
        return local;
    }

    /** What XOR-RELAYED-ADDRESS tells the client: {@code --public-address} with the bound port, or local. */
    public InetSocketAddress advertised() {
        return advertised;
    }

    public int port() {
        return local.getPort();
    }

    @Override
    public String toString() {
        return "relay " + local;
    }
}
