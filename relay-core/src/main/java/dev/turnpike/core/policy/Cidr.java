package dev.turnpike.core.policy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/** An address prefix, matched on the full address bits (never byte by byte on text). */
public record Cidr(byte[] network, int prefixLength) {

    /** Parses {@code 10.0.0.0/8}, {@code fc00::/7}, or a bare address (a /32 or /128). */
    public static Cidr parse(String text) {
        String address = text;
        int prefix = -1;
        int slash = text.indexOf('/');
        if (slash >= 0) {
            address = text.substring(0, slash);
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' (expected: ADDRESS/PREFIX, e.g. 10.0.0.0/8)");
            }
        }
        if (address.isEmpty()
                || !(address.indexOf(':') >= 0 || address.chars().allMatch(c -> c == '.' || Character.isDigit(c)))) {
            throw new IllegalArgumentException(
                    "'" + text + "' (expected: a numeric address and prefix, e.g. 10.0.0.0/8)");
        }
        byte[] bytes;
        try {
            bytes = rawBytes(InetAddress.getByName(address));
            if (address.indexOf(':') >= 0 && bytes.length == 4) {
                // Java turns ::ffff:a.b.c.d into an IPv4 address; keep the operator's IPv6 form
                bytes = mapped(bytes);
            }
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' (expected: a numeric address and prefix)", e);
        }
        int bits = bytes.length * 8;
        if (prefix < 0) {
            prefix = bits;
        }
        if (prefix > bits) {
            throw new IllegalArgumentException("'" + text + "' (expected: a prefix length 0.." + bits + ")");
        }
        return new Cidr(mask(bytes, prefix), prefix);
    }

    /** Whether any of {@code ranges} holds {@code address} (raw bytes, as {@link #contains}). */
    public static boolean anyContains(List<Cidr> ranges, byte[] address) {
        for (Cidr cidr : ranges) {
            if (cidr.contains(address)) {
                return true;
            }
        }
        return false;
    }

    public boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int m = (0xFF << (8 - rest)) & 0xFF;
        return (address[full] & m) == (network[full] & m);
    }

    public boolean isIpv4() {
        return network.length == 4;
    }

    static byte[] rawBytes(InetAddress address) {
        return address.getAddress();
    }

    private static byte[] mapped(byte[] v4) {
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xFF;
        v6[11] = (byte) 0xFF;
        System.arraycopy(v4, 0, v6, 12, 4);
        return v6;
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] out = address.clone();
        for (int bit = prefix; bit < out.length * 8; bit++) {
            out[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return out;
    }

    @Override
    public String toString() {
        try {
            return InetAddress.getByAddress(network).getHostAddress() + "/" + prefixLength;
        } catch (UnknownHostException e) {
            return "?/" + prefixLength;
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Cidr c && c.prefixLength == prefixLength && java.util.Arrays.equals(c.network, network);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(network) * 31 + prefixLength;
    }
}
