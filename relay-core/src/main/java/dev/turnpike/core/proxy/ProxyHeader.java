package dev.turnpike.core.proxy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;

/**
 * The PROXY protocol version 2 header (HAProxy's proxy-protocol.txt, section 2.2) that a load balancer puts in
 * front of a TCP connection's first bytes to tell the server who the client really is. Binary only: version 1's
 * text form is not accepted. Reads and writes a buffer, never a socket: the relay reads the header from a load
 * balancer in front of it, and writes one to a web server behind it (--https-backend-proxy-protocol).
 */
public final class ProxyHeader {
    /** Not all of the header has arrived yet. */
    public static final int NEED_MORE = -1;
    /** Not a PROXY v2 header, or one this relay refuses (an unknown version or command, a family too short). */
    public static final int MALFORMED = -2;
    /**
     * The longest header accepted: the fixed 16 bytes, two IPv6 addresses and ports, and room for the TLVs load
     * balancers add (AWS's VPC endpoint id, Azure's link id, an SSL summary); HAProxy's own limit is about this.
     */
    public static final int MAX_LENGTH = 16 + 1024;

    private static final byte[] SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int FIXED = 16;
    private static final int COMMAND_LOCAL = 0x20;
    private static final int COMMAND_PROXY = 0x21;
    private static final int FAMILY_INET = 0x1;
    private static final int FAMILY_INET6 = 0x2;

    /** The longest header {@link #write} writes: two IPv6 addresses and ports, no TLV. */
    public static final int MAX_WRITTEN = FIXED + 36;

    private static final int TCP_OVER_INET = 0x11;
    private static final int TCP_OVER_INET6 = 0x21;

    private ProxyHeader() {}

    /**
     * Writes the header of a TCP connection from {@code source} to {@code destination} at {@code b}'s position, and
     * moves the position past it: TCP over IPv4 when both addresses are IPv4, else TCP over IPv6, an IPv4 address
     * written in its IPv4-mapped form (the format has one family for both ends).
     */
    public static void write(ByteBuffer b, InetSocketAddress source, InetSocketAddress destination) {
        byte[] from = source.getAddress().getAddress();
        byte[] to = destination.getAddress().getAddress();
        boolean inet = from.length == 4 && to.length == 4;
        b.put(SIGNATURE);
        b.put((byte) COMMAND_PROXY);
        b.put((byte) (inet ? TCP_OVER_INET : TCP_OVER_INET6));
        b.putShort((short) addressBytes(inet ? FAMILY_INET : FAMILY_INET6));
        b.put(inet ? from : mapped(from));
        b.put(inet ? to : mapped(to));
        b.putShort((short) source.getPort());
        b.putShort((short) destination.getPort());
    }

    private static byte[] mapped(byte[] address) {
        if (address.length == 16) {
            return address;
        }
        byte[] v6 = new byte[16];
        v6[10] = (byte) 0xFF;
        v6[11] = (byte) 0xFF;
        System.arraycopy(address, 0, v6, 12, 4);
        return v6;
    }

    /**
     * The length of the header at {@code offset}, with {@code available} bytes there: {@link #NEED_MORE} until
     * the whole of it has arrived, {@link #MALFORMED} as soon as the bytes cannot be one.
     */
    public static int length(ByteBuffer b, int offset, int available) {
        int known = Math.min(available, SIGNATURE.length);
        for (int i = 0; i < known; i++) {
            if (b.get(offset + i) != SIGNATURE[i]) {
                return MALFORMED;
            }
        }
        if (available < FIXED) {
            return NEED_MORE;
        }
        int command = b.get(offset + 12) & 0xFF;
        if (command != COMMAND_LOCAL && command != COMMAND_PROXY) {
            return MALFORMED;
        }
        int rest = b.getShort(offset + 14) & 0xFFFF;
        int total = FIXED + rest;
        if (total > MAX_LENGTH) {
            return MALFORMED;
        }
        if (command == COMMAND_PROXY && rest < addressBytes(b.get(offset + 13) >> 4 & 0xF)) {
            return MALFORMED;
        }
        return available < total ? NEED_MORE : total;
    }

    /**
     * The client the whole header at {@code offset} names; null for a LOCAL header (the balancer's own health
     * check) or an address family other than IPv4 and IPv6, where the connection's own address stands.
     */
    public static InetSocketAddress source(ByteBuffer b, int offset) {
        if ((b.get(offset + 12) & 0xFF) != COMMAND_PROXY) {
            return null;
        }
        int family = b.get(offset + 13) >> 4 & 0xF;
        int size = family == FAMILY_INET ? 4 : family == FAMILY_INET6 ? 16 : 0;
        if (size == 0) {
            return null;
        }
        byte[] ip = new byte[size];
        b.get(offset + FIXED, ip);
        int port = b.getShort(offset + FIXED + 2 * size) & 0xFFFF;
        try {
            return new InetSocketAddress(InetAddress.getByAddress(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("a 4- or 16-byte address is always an address", e);
        }
    }

    /** Bytes the addresses of a family take: two addresses and two ports; 0 for UNSPEC and the rest. */
    private static int addressBytes(int family) {
        return switch (family) {
            case FAMILY_INET -> 12;
            case FAMILY_INET6 -> 36;
            default -> 0;
        };
    }
}
