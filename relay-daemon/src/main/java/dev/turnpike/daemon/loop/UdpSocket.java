package dev.turnpike.daemon.loop;

import dev.turnpike.core.RelayEndpoint;
import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;

/**
 * One of the loop's datagram sockets (a listener or an allocation's relay socket) with the packets that are
 * waiting for room in its send buffer, in the order they were sent.
 */
public final class UdpSocket {
    /** A packet the kernel could not take yet: its bytes (owned by this queue) and where it goes. */
    record Pending(ByteBuf data, InetSocketAddress destination, long queuedAtNs, int trafficClass) {}

    public final DatagramChannel channel;
    /** Index of the listener in the core's configuration, or -1 for a relay socket. */
    final int listener;
    /** An IPv6 socket (a dual-stack one reaches IPv4 destinations by their mapped form). */
    final boolean ipv6;
    /** The core's relay endpoint for a relay socket; null for a listener. Replaced when a reserved port is claimed. */
    public RelayEndpoint relay;

    final ArrayDeque<Pending> pending = new ArrayDeque<>();
    /** The bytes of {@link #pending}, for {@link FairShare}'s longest queue. */
    long pendingBytes;
    /** The TOS byte (IPv4 destinations) and Traffic Class (IPv6) this socket sends with now: {@link TrafficClass}. */
    int tos;

    int trafficClass;
    /** Waiting in {@link DatagramTransport}'s passed-over queue for a turn to be read. */
    boolean passedOver;
    /** The file descriptor, for recvmmsg and for sending empty datagrams; -1 where it cannot be read. */
    int fd = -1;

    SelectionKey readKey;
    /** Registered with the loop's write selector the first time a send would block; interest 0 when idle. */
    SelectionKey writeKey;

    UdpSocket(DatagramChannel channel, int listener, RelayEndpoint relay, boolean ipv6) {
        this.channel = channel;
        this.listener = listener;
        this.ipv6 = ipv6;
        this.relay = relay;
    }

    @Override
    public String toString() {
        try {
            return String.valueOf(channel.getLocalAddress());
        } catch (java.io.IOException | RuntimeException e) {
            return "closed socket";
        }
    }
}
