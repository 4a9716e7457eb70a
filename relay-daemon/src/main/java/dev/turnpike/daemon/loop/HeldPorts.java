package dev.turnpike.daemon.loop;

import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;

/**
 * Refuses to start on a listening port that another socket holds. Workers bind their listeners with SO_REUSEPORT,
 * and the kernel lets any socket of the same user with that option join the group: a second Turnpike (or any
 * such program) would start without an error and take a share of the clients. So each port is first bound once
 * without the option, which fails if anything holds it, and let go before the workers bind it. (The planned
 * hand-over between processes joins the group on purpose, and will say so.)
 */
public final class HeldPorts {
    private HeldPorts() {}

    /** Throws naming the first address, and its transport, that another socket holds; port 0 is never held. */
    public static void refuse(Listeners listeners) throws IOException {
        for (Listeners.Listener l : listeners.all()) {
            InetSocketAddress address = l.address();
            probe(
                    address,
                    l.transport().label(),
                    l.transport().datagrams()
                            ? DatagramChannel.open(family(address))
                            : ServerSocketChannel.open(family(address)));
        }
    }

    private static void probe(InetSocketAddress address, String transport, NetworkChannel channel) throws IOException {
        try (channel) {
            if (address.getPort() != 0) {
                channel.bind(address);
            }
        } catch (BindException e) {
            throw new BindException(Addresses.format(address) + " (" + transport + ") is held by another socket"
                    + " (expected: a free port; is another Turnpike or TURN server running there?)");
        }
    }

    private static StandardProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET;
    }
}
