package dev.turnpike.daemon.stream;

import dev.turnpike.core.proxy.ProxyHeader;
import dev.turnpike.daemon.loop.LoopCounters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;

/**
 * The first stage of a connection from a load balancer (--proxy-protocol): its PROXY v2 header, read before
 * anything else, names the client that nonces, quotas and logs see from then on. Loop thread only.
 */
final class ProxyHeaderReader {
    /** {@link #read}: the header is bad, or names a client over its limit or already connected. */
    static final int REFUSED = -2;
    /** {@link #read}: the TLS records that followed the header closed TLS. */
    static final int TLS_CLOSED = -3;

    private final ConnectionAdmission admission;
    private final LoopCounters counters;

    ProxyHeaderReader(ConnectionAdmission admission, LoopCounters counters) {
        this.admission = admission;
        this.counters = counters;
    }

    /**
     * Reads toward the header of {@code c} and, once it is whole, takes the client it names ({@code connections}
     * re-keyed): the bytes after it stay in the plaintext buffer, or go to the TLS engine. Answers the bytes read
     * (0 while more is needed, -1 at the end of the stream), or {@link #REFUSED} or {@link #TLS_CLOSED}, for which
     * the caller closes the connection.
     */
    int read(StreamConnection c, HashMap<InetSocketAddress, StreamConnection> connections, long maxQueued)
            throws IOException {
        c.ensureCapacity(ProxyHeader.MAX_LENGTH);
        ByteBuffer in = c.in;
        in.limit(in.capacity()).position(c.filled);
        int n = c.channel.read(in);
        if (n <= 0) {
            return n;
        }
        c.filled = in.position();
        int length = ProxyHeader.length(in, 0, c.filled);
        if (length == ProxyHeader.NEED_MORE) {
            return 0;
        }
        if (length == ProxyHeader.MALFORMED) {
            return REFUSED;
        }
        InetSocketAddress client = ProxyHeader.source(in, 0);
        if (client != null && !client.equals(c.client)) {
            if (admission.overPerIpLimit(client.getAddress()) || connections.containsKey(client)) {
                return REFUSED;
            }
            connections.remove(c.client);
            c.client = client;
            connections.put(client, c);
        }
        c.awaitingProxyHeader = false;
        admission.countPerIp(c);
        c.consume(length);
        if (c.tls != null && c.filled > 0) {
            c.handReadBytesToTls(); // a TLS client's first records came in the same read: the engine's, not plaintext
            if (!c.tls.decrypt(c, maxQueued, counters)) {
                return TLS_CLOSED;
            }
        }
        return n;
    }
}
