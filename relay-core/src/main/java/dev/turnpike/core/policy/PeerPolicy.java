package dev.turnpike.core.policy;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Which peers the relay may talk to. Secure by default: the IANA special-purpose ranges (loopback, private,
 * link-local, multicast, documentation...) are refused, and so is the host itself (any of its addresses, in any
 * spelling). {@code --allow-peer} re-opens a range and wins over every refusal but one: a listening transport
 * address itself (TURN inside TURN). An IPv6 address that embeds an IPv4 address (mapped, compatible, NAT64,
 * 6to4, Teredo) is judged by the IPv4 address too.
 *
 * <p>Another allocation's relayed address on this relay is no question for the policy: the core delivers to it
 * inside ({@code SameRelay}) before the policy is asked, so no rule here opens the host's own addresses.
 */
public final class PeerPolicy {
    /**
     * From shared/reference/peer-denylist.md: IANA IPv4/IPv6 special-purpose registries, merged. The prefixes
     * that embed an IPv4 address (::ffff:0:0/96, ::/96, 64:ff9b::/96, 64:ff9b:1::/48, 2002::/16) are not listed:
     * their addresses are judged by the IPv4 address inside.
     */
    public static final List<String> DEFAULT_DENY = List.of(
            "0.0.0.0/8",
            "10.0.0.0/8",
            "100.64.0.0/10",
            "127.0.0.0/8",
            "169.254.0.0/16",
            "172.16.0.0/12",
            "192.0.0.0/24",
            "192.0.2.0/24",
            "192.31.196.0/24",
            "192.52.193.0/24",
            "192.88.99.0/24",
            "192.168.0.0/16",
            "192.175.48.0/24",
            "198.18.0.0/15",
            "198.51.100.0/24",
            "203.0.113.0/24",
            "224.0.0.0/4",
            "240.0.0.0/4",
            "::/128",
            "::1/128",
            "100::/64",
            "100:0:0:1::/64",
            "2001::/23",
            "2001:db8::/32",
            "2620:4f:8000::/48",
            "3fff::/20",
            "5f00::/16",
            "fc00::/7",
            "fe80::/10",
            "fec0::/10",
            "ff00::/8");

    /** What the policy says about a peer IP. */
    public enum Verdict {
        ALLOWED,
        DENIED
    }

    private final List<Cidr> allow;
    private final List<Cidr> deny;
    private final Set<InetAddress> ownAddresses;
    private final InetSocketAddress[] listeners;

    public PeerPolicy(
            List<Cidr> allow, List<Cidr> extraDeny, Set<InetAddress> ownAddresses, Set<InetSocketAddress> listeners) {
        this.allow = List.copyOf(allow);
        List<Cidr> all = new ArrayList<>();
        for (String cidr : DEFAULT_DENY) {
            all.add(Cidr.parse(cidr));
        }
        all.addAll(extraDeny);
        this.deny = List.copyOf(all);
        this.ownAddresses = Set.copyOf(ownAddresses);
        this.listeners = listeners.toArray(InetSocketAddress[]::new);
    }

    /** Judges a peer IP for a permission (no port yet). */
    public Verdict judge(InetAddress peer) {
        byte[] raw = peer.getAddress();
        byte[] embedded = embeddedIpv4(raw);
        if (Cidr.anyContains(allow, raw) || (embedded != null && Cidr.anyContains(allow, embedded))) {
            return Verdict.ALLOWED;
        }
        // the host itself, whatever range its address is in, and in whichever spelling (a NAT64 or 6to4 form of
        // its IPv4 address comes back to it through the gateway)
        if (ownAddresses.contains(peer) || (embedded != null && isOwn(embedded))) {
            return Verdict.DENIED;
        }
        if (Cidr.anyContains(deny, raw) || (embedded != null && Cidr.anyContains(deny, embedded))) {
            return Verdict.DENIED;
        }
        return Verdict.ALLOWED;
    }

    /** Judges a full peer transport address (ChannelBind, Send): the IP as above, and never a listener. */
    public boolean permits(InetSocketAddress peer) {
        return !isListener(peer.getAddress(), peer.getPort()) && judge(peer.getAddress()) == Verdict.ALLOWED;
    }

    private boolean isOwn(byte[] ipv4) {
        for (InetAddress own : ownAddresses) {
            if (own instanceof Inet4Address && java.util.Arrays.equals(own.getAddress(), ipv4)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when {@code ip:port} is one of the relay's listening transport addresses (TURN inside TURN), which
     * no allow re-opens. Allocates nothing: for the data plane.
     */
    public boolean isListener(InetAddress ip, int port) {
        for (InetSocketAddress listener : listeners) {
            if (listener.getPort() == port
                    && (listener.getAddress().equals(ip)
                            || (listener.getAddress().isAnyLocalAddress()
                                    && (ownAddresses.contains(ip) || ip.isLoopbackAddress())))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The IPv4 address an IPv6 address carries, or null. IPv4-mapped ::ffff:a.b.c.d and IPv4-compatible
     * ::a.b.c.d (other than :: and ::1), NAT64 64:ff9b::/96 and 64:ff9b:1::/48 (RFC 6052), 6to4 2002:AABB:CCDD::
     * and Teredo 2001:0::/32 (the client address, inverted, in the last 32 bits).
     */
    static byte[] embeddedIpv4(byte[] raw) {
        if (raw.length != 16) {
            return null;
        }
        if (allZero(raw, 0, 10)
                && ((raw[10] == (byte) 0xFF && raw[11] == (byte) 0xFF) || (raw[10] == 0 && raw[11] == 0))) {
            boolean compatible = raw[10] == 0;
            if (compatible && allZero(raw, 12, 15) && (raw[15] == 0 || raw[15] == 1)) {
                return null; // :: and ::1 are themselves
            }
            return slice(raw, 12);
        }
        if (raw[0] == 0 && raw[1] == 0x64 && raw[2] == (byte) 0xFF && raw[3] == (byte) 0x9B) {
            if (allZero(raw, 4, 12)) {
                return slice(raw, 12); // 64:ff9b::/96
            }
            if (raw[4] == 0 && raw[5] == 1) {
                // 64:ff9b:1::/48, RFC 6052 /48 layout: v4 bits in octets 6-7 and 9-10 (octet 8 is "u")
                return new byte[] {raw[6], raw[7], raw[9], raw[10]};
            }
        }
        if (raw[0] == 0x20 && raw[1] == 0x02) {
            return new byte[] {raw[2], raw[3], raw[4], raw[5]}; // 6to4
        }
        if (raw[0] == 0x20 && raw[1] == 0x01 && raw[2] == 0 && raw[3] == 0) {
            return new byte[] {(byte) ~raw[12], (byte) ~raw[13], (byte) ~raw[14], (byte) ~raw[15]}; // Teredo
        }
        return null;
    }

    private static boolean allZero(byte[] raw, int from, int to) {
        for (int i = from; i < to; i++) {
            if (raw[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static byte[] slice(byte[] raw, int from) {
        return new byte[] {raw[from], raw[from + 1], raw[from + 2], raw[from + 3]};
    }
}
