package dev.turnpike.daemon.loop;

import dev.turnpike.core.RelayEndpoint;
import dev.turnpike.core.RelaySockets;
import dev.turnpike.daemon.log.RepeatedWarnings;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay sockets, found by port in one 65,536-slot table per family: the core names an endpoint, the port
 * finds its socket. Opens and adopts them when the core asks (on the loop thread, while it handles an
 * Allocate), and closes released ones at the top of an iteration, never inside a select.
 */
final class RelaySocketTable implements RelaySockets {
    private static final Logger log = LoggerFactory.getLogger(RelaySocketTable.class);

    private final UdpSockets sockets;
    private final LoopCounters counters;
    private final RepeatedWarnings warnings = new RepeatedWarnings();
    private final UdpSocket[] ipv4 = new UdpSocket[65_536];
    private final UdpSocket[] ipv6 = new UdpSocket[65_536];
    private final List<UdpSocket> closing = new ArrayList<>();
    private final boolean dontFragmentSupported;
    /**
     * Ports bound for RESERVATION-TOKENs, by address: bound so that no other process takes them, but read by no
     * loop until claimed, so that whichever worker the claim reaches can adopt the socket. Shared by the workers.
     */
    private final ConcurrentHashMap<InetSocketAddress, DatagramChannel> reserved;

    /** RFC 6062's TCP relayed addresses, kept by the stream transport; null without a TCP or TLS listener. */
    private TcpRelaySockets tcp;

    /** TCP relayed addresses open and close by {@code tcp} from now on; set once, before the loop runs. */
    void tcp(TcpRelaySockets tcp) {
        this.tcp = tcp;
    }

    RelaySocketTable(UdpSockets sockets, LoopCounters counters) {
        this(sockets, counters, new ConcurrentHashMap<>());
    }

    RelaySocketTable(
            UdpSockets sockets, LoopCounters counters, ConcurrentHashMap<InetSocketAddress, DatagramChannel> reserved) {
        this.sockets = sockets;
        this.counters = counters;
        this.reserved = reserved;
        this.dontFragmentSupported = probeDontFragment();
    }

    private static boolean probeDontFragment() {
        try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET)) {
            return probe.supportedOptions().contains(ExtendedSocketOptions.IP_DONTFRAGMENT);
        } catch (IOException e) {
            return false;
        }
    }

    private UdpSocket[] table(RelayEndpoint endpoint) {
        return endpoint.local().getAddress() instanceof Inet6Address ? ipv6 : ipv4;
    }

    /** The socket serving {@code endpoint}, or null. */
    UdpSocket socket(RelayEndpoint endpoint) {
        return table(endpoint)[endpoint.port()];
    }

    @Override
    public boolean open(RelayEndpoint endpoint) {
        if (endpoint.tcp()) {
            return tcp != null && tcp.open(endpoint);
        }
        DatagramChannel channel = null;
        try {
            channel = sockets.open(endpoint.local());
            if (endpoint.dontFragment()) {
                // IP_DF for IPv4, IPV6_DONTFRAG for IPv6 (RFC 8656 DONT-FRAGMENT)
                channel.setOption(ExtendedSocketOptions.IP_DONTFRAGMENT, true);
            }
            channel.bind(endpoint.local());
            if (endpoint.reserved()) {
                reserved.put(endpoint.local(), channel);
            } else {
                table(endpoint)[endpoint.port()] = sockets.register(channel, -1, endpoint);
            }
            return true;
        } catch (IOException | RuntimeException e) {
            log.atDebug()
                    .addKeyValue("relay", Addresses.format(endpoint.local()))
                    .setCause(e)
                    .log("cannot bind relay port");
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing more to release
                }
            }
            return false;
        }
    }

    @Override
    public boolean adopt(RelayEndpoint held, RelayEndpoint endpoint) {
        DatagramChannel channel = reserved.remove(held.local());
        if (channel == null) {
            return false;
        }
        try {
            if (endpoint.dontFragment() != held.dontFragment()) {
                channel.setOption(ExtendedSocketOptions.IP_DONTFRAGMENT, endpoint.dontFragment());
            }
            table(endpoint)[endpoint.port()] = sockets.register(channel, -1, endpoint);
            return true;
        } catch (IOException | RuntimeException e) {
            long heldBack = warnings.admit("cannot adopt a reserved relay port", System.nanoTime());
            if (heldBack >= 0) {
                log.atWarn()
                        .addKeyValue("relay", Addresses.format(held.local()))
                        .addKeyValue("heldBack", heldBack)
                        .setCause(e)
                        .log("cannot adopt a reserved relay port");
            }
            closeQuietly(channel);
            return false;
        }
    }

    @Override
    public boolean supportsDontFragment() {
        return dontFragmentSupported;
    }

    /**
     * Takes a released endpoint's socket out of the table; it closes at the top of a later iteration: a
     * registered channel is only closed after its keys are cancelled and a select has run, so it cannot be
     * closed from inside a select.
     */
    void release(RelayEndpoint endpoint) {
        if (endpoint.tcp()) {
            if (tcp != null) {
                tcp.release(endpoint);
            }
            return;
        }
        if (endpoint.reserved()) {
            // never registered with a selector: it closes now, unless a claim took it first
            DatagramChannel channel = reserved.remove(endpoint.local());
            if (channel != null) {
                closeQuietly(channel);
            }
            return;
        }
        UdpSocket[] table = table(endpoint);
        UdpSocket socket = table[endpoint.port()];
        if (socket != null && socket.relay == endpoint) {
            table[endpoint.port()] = null;
            closing.add(socket);
        }
    }

    /**
     * Closes released sockets that have nothing left to do: packets still queued for a deleted allocation's peers
     * were accepted, so the socket closes after them, and so does one whose read batch is still being handled
     * ({@code busy}). A failed close is counted and logged; the loop goes on.
     */
    void closeReleased(SendQueue sendQueue, UdpSocket busy) throws IOException {
        if (closing.isEmpty()) {
            return;
        }
        List<UdpSocket> ready = new ArrayList<>();
        closing.removeIf(socket -> {
            if (!socket.pending.isEmpty() || socket == busy) {
                return false;
            }
            socket.readKey.cancel();
            sendQueue.forget(socket);
            ready.add(socket);
            return true;
        });
        if (ready.isEmpty()) {
            return;
        }
        sockets.selectNow();
        sendQueue.selectNow();
        for (UdpSocket socket : ready) {
            try {
                socket.channel.close();
            } catch (IOException e) {
                // the descriptor is gone either way
                counters.closeErrors++;
                long heldBack = warnings.admit("closing a relay socket failed", System.nanoTime());
                if (heldBack >= 0) {
                    log.atWarn()
                            .addKeyValue("socket", socket)
                            .addKeyValue("heldBack", heldBack)
                            .setCause(e)
                            .log("closing a relay socket failed");
                }
            }
        }
    }

    /** Closes every reserved port's socket not claimed yet: the process is stopping. */
    void closeReserved() {
        for (InetSocketAddress address : List.copyOf(reserved.keySet())) {
            DatagramChannel channel = reserved.remove(address);
            if (channel != null) {
                closeQuietly(channel);
            }
        }
    }

    private void closeQuietly(DatagramChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            counters.closeErrors++;
        }
    }

    /** Closes every relay socket, open, closing or reserved: the loop's last close. */
    void closeAll() {
        forEach(socket -> closeQuietly(socket.channel));
        closeReserved();
    }

    /** Every relay socket, open or closing, for the loop's last close. */
    void forEach(Consumer<UdpSocket> action) {
        for (UdpSocket[] table : new UdpSocket[][] {ipv4, ipv6}) {
            for (UdpSocket socket : table) {
                if (socket != null) {
                    action.accept(socket);
                }
            }
        }
        closing.forEach(action);
    }
}
