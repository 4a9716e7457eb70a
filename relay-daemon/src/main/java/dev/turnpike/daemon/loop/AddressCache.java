package dev.turnpike.daemon.loop;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Source addresses of received datagrams as {@link InetSocketAddress} objects, the same object each time for
 * the same address and port, without allocating on a hit. The core looks allocations and permissions up by
 * these objects, and the JDK caches a send destination by identity. Two ways a set: an address shares its set
 * with at most one other before the older of the two is replaced, so memory is bounded, a miss costs one
 * allocation, and two busy clients whose addresses hash alike do not evict each other on every datagram (with a
 * direct-mapped table they did: 100 clients in 16,384 slots collide in about one run of four, and then each of
 * their datagrams allocated).
 */
final class AddressCache {
    private final int mask;
    private final long[] keysHigh;
    private final long[] keysLow;
    private final InetSocketAddress[] values;

    AddressCache(int sizePowerOfTwo) {
        if (Integer.bitCount(sizePowerOfTwo) != 1) {
            throw new IllegalArgumentException("size " + sizePowerOfTwo + " (expected: a power of two)");
        }
        mask = sizePowerOfTwo - 1;
        keysHigh = new long[sizePowerOfTwo];
        keysLow = new long[sizePowerOfTwo];
        values = new InetSocketAddress[sizePowerOfTwo];
    }

    /** An IPv4 address (network order, as an int) and port. */
    InetSocketAddress ipv4(int address, int port) {
        long high = 4L << 32 | (port & 0xFFFFL);
        long low = address & 0xFFFFFFFFL;
        int slot = slot(high, low);
        for (int way = slot; way <= slot + 1; way++) {
            InetSocketAddress cached = values[way];
            if (cached != null && keysHigh[way] == high && keysLow[way] == low) {
                return cached;
            }
        }
        byte[] raw = {(byte) (address >>> 24), (byte) (address >>> 16), (byte) (address >>> 8), (byte) address};
        return store(slot, high, low, raw, port);
    }

    /**
     * An IPv6 address given as its two 64-bit halves (network order) and port. IPv4-mapped addresses come back
     * as IPv4, as the JDK reports them.
     */
    InetSocketAddress ipv6(long addressHigh, long addressLow, int port) {
        if (addressHigh == 0 && (addressLow >>> 32) == 0xFFFFL) {
            return ipv4((int) addressLow, port);
        }
        // Two 64-bit keys cannot hold 128 address bits and a port: the port is checked on the cached object.
        long high = addressHigh;
        long low = addressLow;
        int slot = slot(high ^ port, low);
        for (int way = slot; way <= slot + 1; way++) {
            InetSocketAddress cached = values[way];
            if (cached != null
                    && keysHigh[way] == high
                    && keysLow[way] == low
                    && cached.getPort() == port
                    && cached.getAddress() instanceof Inet6Address) {
                return cached;
            }
        }
        byte[] raw = new byte[16];
        for (int i = 0; i < 8; i++) {
            raw[i] = (byte) (addressHigh >>> (56 - 8 * i));
            raw[8 + i] = (byte) (addressLow >>> (56 - 8 * i));
        }
        return store(slot, high, low, raw, port);
    }

    private InetSocketAddress store(int slot, long high, long low, byte[] raw, int port) {
        InetAddress ip;
        try {
            ip = raw.length == 4 ? Inet4Address.getByAddress(raw) : Inet6Address.getByAddress(null, raw, -1);
        } catch (UnknownHostException impossible) {
            throw new IllegalStateException(impossible); // thrown only for a wrong array length
        }
        InetSocketAddress address = new InetSocketAddress(ip, port);
        // the newest first: the set's other entry moves to the second way, and the one there is replaced
        keysHigh[slot + 1] = keysHigh[slot];
        keysLow[slot + 1] = keysLow[slot];
        values[slot + 1] = values[slot];
        keysHigh[slot] = high;
        keysLow[slot] = low;
        values[slot] = address;
        return address;
    }

    /** The first of the two slots of the address's set. */
    private int slot(long high, long low) {
        long h = (high * 0x9E3779B97F4A7C15L) ^ (low * 0xC2B2AE3D27D4EB4FL);
        return (int) (h ^ (h >>> 29)) & mask & ~1;
    }
}
