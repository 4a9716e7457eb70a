package dev.turnpike.daemon.sys;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Parsing and printing transport addresses the way operators write them: 192.0.2.1:3478, [2001:db8::1]:3478. */
public final class Addresses {
    private Addresses() {}

    /** Parses ADDR:PORT with a numeric address; throws IllegalArgumentException saying what was expected. */
    public static InetSocketAddress parseHostPort(String text) {
        String host;
        String port;
        if (text.startsWith("[")) {
            int close = text.indexOf(']');
            if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("'" + text + "' (expected: [IPv6]:PORT, e.g. [::1]:3478)");
            }
            host = text.substring(1, close);
            port = text.substring(close + 2);
        } else {
            int colon = text.lastIndexOf(':');
            if (colon < 0 || text.indexOf(':') != colon) {
                throw new IllegalArgumentException(
                        "'" + text + "' (expected: ADDR:PORT, e.g. 127.0.0.1:3478 or [::1]:3478)");
            }
            host = text.substring(0, colon);
            port = text.substring(colon + 1);
        }
        return new InetSocketAddress(parseIp(host, text), parsePort(port, text));
    }

    /** A numeric IPv4 or IPv6 address: names are refused so that no flag waits on DNS. */
    public static InetAddress parseIp(String host, String whole) {
        boolean numeric = !host.isEmpty()
                && (host.chars().allMatch(c -> Character.isDigit(c) || c == '.')
                                && host.chars().filter(c -> c == '.').count() == 3
                        || host.indexOf(':') >= 0
                                && host.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == ':' || c == '.'));
        if (!numeric) {
            throw new IllegalArgumentException("'" + whole + "' (expected: a numeric IPv4 or IPv6 address)");
        }
        try {
            return InetAddress.getByName(host); // numeric, so no lookup happens
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("'" + whole + "' (expected: a numeric IPv4 or IPv6 address)", e);
        }
    }

    static int parsePort(String port, String whole) {
        try {
            int value = Integer.parseInt(port);
            if (value >= 0 && value <= 65535) {
                return value;
            }
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException("'" + whole + "' (expected: a port 0..65535)");
    }

    public static String format(InetSocketAddress address) {
        InetAddress ip = address.getAddress();
        return (ip instanceof Inet6Address ? "[" + format(ip) + "]" : format(ip)) + ":" + address.getPort();
    }

    /** An IP in its canonical text form; IPv6 as RFC 5952 says (longest run of zero groups as ::). */
    public static String format(InetAddress ip) {
        if (!(ip instanceof Inet6Address)) {
            return ip.getHostAddress();
        }
        byte[] raw = ip.getAddress();
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((raw[2 * i] & 0xFF) << 8) | (raw[2 * i + 1] & 0xFF);
        }
        int bestStart = -1;
        int bestLength = 1; // a single zero group is not shortened
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLength) {
                bestStart = i;
                bestLength = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder text = new StringBuilder(39);
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':') {
                text.append(':');
            }
            text.append(Integer.toHexString(groups[i]));
        }
        return text.toString();
    }

    /**
     * Every address of every interface that is up, IPv4 and IPv6, except IPv6 link-local ones (they need a
     * scope and no TURN client reaches a server through them). One socket per address, as coturn does, so
     * that replies leave from the address the client sent to.
     */
    public static List<InetAddress> localAddresses() throws SocketException {
        List<InetAddress> addresses = new ArrayList<>();
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (!(address instanceof Inet6Address && address.isLinkLocalAddress())) {
                    addresses.add(address);
                }
            }
        }
        return addresses;
    }
}
