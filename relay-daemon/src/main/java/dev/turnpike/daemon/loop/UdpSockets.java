package dev.turnpike.daemon.loop;

import dev.turnpike.core.RelayEndpoint;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

/**
 * Opens the loop's datagram sockets the one way they are all opened: the family of the address, the configured
 * buffer sizes, non-blocking, registered for reading with the loop's read selector, and the descriptor read for
 * recvmmsg and sendto where the platform allows.
 */
final class UdpSockets {
    private final Selector readSelector;
    private final SocketOptions options;
    /** Asks each socket for its datagrams' TOS byte (--dscp-preserve), or null. */
    private final TrafficClass trafficClass;

    UdpSockets(Selector readSelector, SocketOptions options, TrafficClass trafficClass) {
        this.readSelector = readSelector;
        this.options = options;
        this.trafficClass = trafficClass;
    }

    /** A channel of {@code address}'s family with the configured buffers, not bound yet. */
    DatagramChannel open(InetSocketAddress address) throws IOException {
        DatagramChannel channel = DatagramChannel.open(
                address.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6
                        : StandardProtocolFamily.INET);
        if (options.receiveBytes() > 0) {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, options.receiveBytes());
        }
        if (options.sendBytes() > 0) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, options.sendBytes());
        }
        return channel;
    }

    /** Makes a bound channel one of the loop's sockets: non-blocking and watched for reading. */
    UdpSocket register(DatagramChannel channel, int listener, RelayEndpoint relay) throws IOException {
        channel.configureBlocking(false);
        InetSocketAddress local = (InetSocketAddress) channel.getLocalAddress();
        UdpSocket socket = new UdpSocket(channel, listener, relay, local.getAddress() instanceof Inet6Address);
        if (BatchReceiver.AVAILABLE) {
            socket.fd = BatchReceiver.fd(channel); // for recvmmsg, and sendto of an empty datagram
        }
        if (trafficClass != null) {
            trafficClass.receiveOn(socket);
        }
        socket.readKey = channel.register(readSelector, SelectionKey.OP_READ, socket);
        return socket;
    }

    /** Lets cancelled read keys complete, so their channels can close. */
    void selectNow() throws IOException {
        readSelector.selectNow();
    }
}
