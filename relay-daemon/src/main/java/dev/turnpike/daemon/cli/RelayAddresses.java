package dev.turnpike.daemon.cli;

import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.util.List;

/**
 * The relay's own addresses: the relayed address of each family (null: none) and the public address that stands
 * for it behind a NAT (null: the relayed one is public).
 */
record RelayAddresses(InetAddress relayIpv4, InetAddress relayIpv6, InetAddress publicIpv4, InetAddress publicIpv6) {
    /**
     * The addresses of --relay-address and --public-address, checked; without --relay-address, the listen address of
     * each family when --listen named concrete ones, else the address the default route leaves from.
     */
    static RelayAddresses from(RelayOptions flags, List<InetSocketAddress> listen) {
        InetAddress relayIpv4 = null;
        InetAddress relayIpv6 = null;
        InetAddress publicIpv4 = null;
        InetAddress publicIpv6 = null;
        for (String text : flags.relayAddresses) {
            InetAddress ip = ip("--relay-address", text);
            if (!isLocal(ip)) {
                throw bad("--relay-address " + text + " (expected: an address of this host)");
            }
            if (ip instanceof Inet4Address) {
                if (relayIpv4 != null) {
                    throw bad("--relay-address " + text + " (expected: at most one IPv4 address)");
                }
                relayIpv4 = ip;
            } else {
                if (relayIpv6 != null) {
                    throw bad("--relay-address " + text + " (expected: at most one IPv6 address)");
                }
                relayIpv6 = ip;
            }
        }
        for (String text : flags.publicAddresses) {
            InetAddress ip = ip("--public-address", text);
            if (ip instanceof Inet4Address) {
                publicIpv4 = ip;
            } else {
                publicIpv6 = ip;
            }
        }
        // Default: the listen address of the family when --listen named concrete ones; otherwise the address
        // the default route leaves from, falling back to a local address of that family.
        if (flags.relayAddresses.isEmpty()) {
            boolean concrete = !flags.listen.isEmpty()
                    && listen.stream().noneMatch(a -> a.getAddress().isAnyLocalAddress());
            if (!concrete) {
                relayIpv4 = defaultRouteAddress("192.0.2.1");
                relayIpv6 = defaultRouteAddress("2001:db8::1");
            }
            for (InetSocketAddress address : listen) {
                InetAddress ip = address.getAddress();
                if (ip.isAnyLocalAddress()) {
                    continue;
                }
                if (ip instanceof Inet4Address && relayIpv4 == null) {
                    relayIpv4 = ip;
                } else if (ip instanceof Inet6Address && relayIpv6 == null) {
                    relayIpv6 = ip;
                }
            }
        }
        if (publicIpv4 != null && relayIpv4 == null) {
            throw bad("--public-address " + publicIpv4.getHostAddress()
                    + " (expected: an IPv4 relay address to stand for)");
        }
        if (publicIpv6 != null && relayIpv6 == null) {
            throw bad("--public-address " + Addresses.format(publicIpv6)
                    + " (expected: an IPv6 relay address to stand for)");
        }
        return new RelayAddresses(relayIpv4, relayIpv6, publicIpv4, publicIpv6);
    }

    private static InetAddress ip(String flag, String text) {
        try {
            return Addresses.parseIp(text.strip(), text);
        } catch (IllegalArgumentException e) {
            throw bad(flag + " " + e.getMessage());
        }
    }

    private static boolean isLocal(InetAddress ip) {
        try (DatagramSocket probe = new DatagramSocket(new InetSocketAddress(ip, 0))) {
            return probe.isBound();
        } catch (SocketException e) {
            return false;
        }
    }

    /**
     * The local address the kernel would send from toward {@code target} (a documentation address standing
     * for "anywhere"). A UDP connect only consults the routing table: nothing is sent.
     */
    private static InetAddress defaultRouteAddress(String target) {
        try (DatagramSocket probe = new DatagramSocket()) {
            probe.connect(new InetSocketAddress(InetAddress.getByName(target), 9));
            InetAddress local = probe.getLocalAddress();
            return local == null || local.isAnyLocalAddress() ? null : local;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static StartupException bad(String message) {
        return new StartupException(message, 2);
    }
}
