package dev.turnpike.core;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The relay's own relayed addresses as peers. Two clients relayed by the same Turnpike (both behind strict NATs, a
 * common case) send to each other's relayed addresses, which are the relay's own. Behind a cloud's 1:1 NAT the
 * addresses clients learn are the --public-address ones, which the instance itself usually cannot reach (no
 * hairpin), so such a datagram is delivered inside: to the allocation that holds that port, in this worker, with
 * that allocation's permissions applied as if it had come from outside, from the sender's relayed address as
 * clients know it. An allocation in another worker is reached through the host's own stack at the local form of
 * its address, never at the public one, and its worker maps the source back to the public form.
 *
 * <p>Only a port a live allocation holds is the relay ({@link LiveRelayPorts}); any other port of these addresses
 * is whatever else the host runs there, judged by the peer policy like any other peer (refused by default).
 */
final class SameRelay {
    private final InetAddress localIpv4;
    private final InetAddress localIpv6;
    private final InetAddress advertisedIpv4;
    private final InetAddress advertisedIpv6;
    private final LiveRelayPorts livePorts;

    SameRelay(RelayConfig config, LiveRelayPorts livePorts) {
        this.localIpv4 = config.relayIpv4;
        this.localIpv6 = config.relayIpv6;
        this.advertisedIpv4 = config.publicIpv4 != null ? config.publicIpv4 : config.relayIpv4;
        this.advertisedIpv6 = config.publicIpv6 != null ? config.publicIpv6 : config.relayIpv6;
        this.livePorts = livePorts;
    }

    /** Whether {@code ip} is one of the relay's relayed addresses, bound or advertised. Allocates nothing. */
    boolean names(InetAddress ip) {
        return ip.equals(localIpv4) || ip.equals(advertisedIpv4) || ip.equals(localIpv6) || ip.equals(advertisedIpv6);
    }

    /** Whether {@code ip:port} is a live allocation's relayed address here, in this worker or another. */
    boolean isLive(InetAddress ip, int port) {
        return names(ip) && livePorts.isLive(ip instanceof Inet6Address, port);
    }

    /** Whether a live allocation, of any worker, holds {@code port} of the family. */
    boolean isLivePort(boolean ipv6, int port) {
        return livePorts.isLive(ipv6, port);
    }

    /** The address this relay's sockets of that family are bound to. */
    InetAddress local(boolean ipv6) {
        return ipv6 ? localIpv6 : localIpv4;
    }

    /**
     * A datagram's source as clients know it: an allocation's relayed address in its bound form (sent by another
     * worker through the host) becomes the advertised form; anything else is itself.
     */
    InetSocketAddress asAdvertised(InetSocketAddress source) {
        InetAddress ip = source.getAddress();
        InetAddress advertised = ip instanceof Inet6Address ? advertisedIpv6 : advertisedIpv4;
        if (advertised == null || advertised.equals(ip) || !ip.equals(local(ip instanceof Inet6Address))) {
            return source;
        }
        return new InetSocketAddress(advertised, source.getPort());
    }
}
