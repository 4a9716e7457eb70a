package dev.turnpike.daemon;

import dev.turnpike.core.TokenBucket;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.proxy.ProxyHeader;
import dev.turnpike.core.stun.StreamFraming;
import dev.turnpike.core.stun.StunMessage;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TURN over TCP and TLS (RFC 8656 §3.1) on the loop's own selector: listening sockets that accept, and client
 * connections read into messages by {@link StreamFraming} and handed to the core exactly as datagrams are. The
 * relayed side stays UDP. Loop thread only.
 *
 * <p>Backpressure: a connection whose socket will not take more keeps what it was sent in a queue of its own, up
 * to {@code --max-connection-queued-bytes}; past that the connection is closed and counted. One slow TCP client
 * so costs only itself: the loop never suspends for a stream (docs/architecture.md says why).
 */
final class StreamTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(StreamTransport.class);
    /** Reads a connection gets per readiness before the loop moves on: fairness between clients. */
    private static final int READS_PER_READINESS = 8;

    private static final int ACCEPTS_PER_READINESS = 64;

    /** What the loop does with what streams bring. */
    interface Delivery {
        /** A framed STUN or ChannelData message from {@code connection}: {@code length} bytes at {@code offset}. */
        void message(StreamConnection connection, ByteBuffer buffer, int offset, int length);

        /** {@code connection} has closed; its allocation ends with it. */
        void closed(StreamConnection connection);
    }

    /** The limits on streams; every one counted when it bites. */
    record Limits(
            int maxConnections,
            int connectionsPerIp,
            long firstMessageTimeoutNs,
            long maxQueuedBytes,
            long tlsHandshakesPerSecond) {}

    /** A listening socket; TLS when it has a context (replaced on a certificate reload, for new connections). */
    static final class Listener {
        final ServerSocketChannel server;
        final int index;
        final boolean tls;
        /** Behind a load balancer that sends a PROXY v2 header first (--proxy-protocol). */
        final boolean proxied;

        volatile SSLContext context;

        Listener(ServerSocketChannel server, int index, SSLContext context, boolean proxied) {
            this.server = server;
            this.index = index;
            this.tls = context != null;
            this.context = context;
            this.proxied = proxied;
        }
    }

    /**
     * The addresses a load balancer that speaks PROXY protocol v2 may connect from, to the listeners that take its
     * header ({@link Listeners.Listener#proxied}): a header from anyone else would let a client claim any address,
     * so a connection from elsewhere is refused.
     */
    record ProxyProtocol(List<Cidr> from) {
        static final ProxyProtocol NONE = new ProxyProtocol(List.of());

        boolean trusts(InetAddress balancer) {
            return Cidr.anyContains(from, balancer.getAddress());
        }
    }

    private final Selector selector;
    private final LoopCounters counters;
    private Limits limits;
    private final Delivery delivery;
    private final List<Listener> listeners = new ArrayList<>();
    private final HashMap<Integer, HashMap<InetSocketAddress, StreamConnection>> byListener = new HashMap<>();
    private final HashMap<InetAddress, int[]> perIp = new HashMap<>();
    private TokenBucket handshakes;
    private int open;

    /** Whether listeners bind with SO_REUSEPORT: each worker listens on the same addresses. */
    private final boolean reusePort;

    private final ProxyProtocol proxyProtocol;
    /** The certificates new TLS connections get (replaced on a reload), or null without a TLS listener. */
    private SSLContext context;

    private final RepeatedWarnings warnings = new RepeatedWarnings();
    /** Reads each connection's DSCP (--dscp-preserve), or null. */
    private final TrafficClass marks;

    StreamTransport(
            Selector selector,
            LoopCounters counters,
            Limits limits,
            boolean reusePort,
            ProxyProtocol proxyProtocol,
            SSLContext context,
            TrafficClass marks,
            Delivery delivery) {
        this.marks = marks;
        this.context = context;
        this.reusePort = reusePort;
        this.proxyProtocol = proxyProtocol;
        this.selector = selector;
        this.counters = counters;
        this.limits = limits;
        this.delivery = delivery;
        this.handshakes = limits.tlsHandshakesPerSecond() > 0
                ? new TokenBucket(limits.tlsHandshakesPerSecond(), limits.tlsHandshakesPerSecond(), System.nanoTime())
                : null;
    }

    @Override
    public void listen(Listeners.Listener l) throws IOException {
        bind(l.address(), l.index(), l.transport() == Listeners.Transport.TLS ? context : null, l.proxied());
    }

    @Override
    public InetSocketAddress boundAddress(int listener) throws IOException {
        for (Listener l : listeners) {
            if (l.index == listener) {
                return (InetSocketAddress) l.server.getLocalAddress();
            }
        }
        throw new IllegalArgumentException("no stream listener " + listener);
    }

    /** Binds a listening socket for the core's listener {@code index}; TLS with {@code context}, else TCP. */
    private void bind(InetSocketAddress address, int index, SSLContext context, boolean proxied) throws IOException {
        // of the address's own family: an IPv4 listener is an IPv4 socket, not an IPv6 one bound to a mapped address
        ServerSocketChannel server = ServerSocketChannel.open(
                address.getAddress() instanceof java.net.Inet4Address
                        ? java.net.StandardProtocolFamily.INET
                        : java.net.StandardProtocolFamily.INET6);
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, true); // one listener a worker
            }
            server.bind(address, 1024);
            server.configureBlocking(false);
        } catch (IOException e) {
            server.close();
            throw new IOException(
                    "cannot listen on " + (context == null ? "TCP " : "TLS ") + Addresses.format(address) + ": "
                            + e.getMessage(),
                    e);
        }
        Listener listener = new Listener(server, index, context, proxied);
        server.register(selector, SelectionKey.OP_ACCEPT, listener);
        listeners.add(listener);
        byListener.put(index, new HashMap<>());
    }

    /** A reload: certificates for new TLS connections, and the limits from now on. */
    void reconfigure(SSLContext context, Limits next, long nowNs) {
        if (context != null) {
            this.context = context;
        }
        for (Listener l : listeners) {
            if (l.tls && context != null) {
                l.context = context;
            }
        }
        if (next.tlsHandshakesPerSecond() != limits.tlsHandshakesPerSecond()) {
            handshakes = next.tlsHandshakesPerSecond() > 0
                    ? new TokenBucket(next.tlsHandshakesPerSecond(), next.tlsHandshakesPerSecond(), nowNs)
                    : null;
        }
        limits = next;
    }

    int openConnections() {
        return open;
    }

    /** A key of this transport's is ready: accept, write what waits, read what came. */
    @Override
    public void onReady(SelectionKey key, long nowNs) {
        try {
            ready(key, nowNs);
        } catch (RuntimeException e) {
            // a bug on one connection costs that connection, never the loop
            counters.internalErrors++;
            long held = warnings.admit("internal error on a connection", nowNs);
            if (held >= 0) {
                log.atError().addKeyValue("heldBack", held).setCause(e).log("internal error on a connection");
            }
            if (key.attachment() instanceof StreamConnection c) {
                close(c, LoopCounters.StreamClose.ERROR);
            }
        }
    }

    private void ready(SelectionKey key, long nowNs) {
        if (!key.isValid()) {
            return;
        }
        switch (key.attachment()) {
            case Listener l -> accept(l, nowNs);
            case StreamConnection c -> {
                if (key.isWritable()) {
                    try {
                        c.flush(counters);
                    } catch (IOException e) {
                        close(c, LoopCounters.StreamClose.ERROR);
                        return;
                    }
                }
                if (key.isValid() && key.isReadable()) {
                    read(c);
                }
            }
            default -> throw new IllegalStateException("not a stream key: " + key.attachment());
        }
    }

    /**
     * Sends to the client connected on {@code listener} from {@code client}, ChannelData padded. A client gone
     * meanwhile is counted as a send error; one that does not read is closed past its queue bound.
     */
    @Override
    public void send(
            int listener,
            InetSocketAddress client,
            ByteBuffer bytes,
            boolean channelData,
            UdpSocket flow,
            int trafficClass,
            long nowNs) {
        if (channelData) {
            pad(bytes);
        }
        write(listener, client, bytes);
    }

    /**
     * Pads ChannelData (position to limit) to a multiple of 4 as a stream needs (RFC 8656 §12.5): the padding is
     * written behind the limit, in the tailroom the core leaves there.
     */
    private static void pad(ByteBuffer bytes) {
        int end = bytes.limit();
        int padding = StreamFraming.channelDataPadding(end - bytes.position());
        bytes.limit(end + padding); // first: an absolute put is checked against the limit
        for (int i = 0; i < padding; i++) {
            bytes.put(end + i, (byte) 0);
        }
    }

    private void write(int listener, InetSocketAddress client, ByteBuffer bytes) {
        HashMap<InetSocketAddress, StreamConnection> connections = byListener.get(listener);
        StreamConnection c = connections == null ? null : connections.get(client);
        if (c == null || c.closed) {
            counters.sendErrors++;
            return;
        }
        try {
            boolean queued = c.tls == null
                    ? c.write(bytes, limits.maxQueuedBytes(), counters)
                    : c.tls.encrypt(bytes, c, limits.maxQueuedBytes(), counters);
            if (!queued) {
                close(c, LoopCounters.StreamClose.WRITE_QUEUE_FULL);
            }
        } catch (IOException e) {
            close(c, LoopCounters.StreamClose.ERROR);
        }
    }

    /** Closes connections that sent no STUN message within the first-message timeout (slowloris, TLS or not). */
    @Override
    public void sweep(long nowNs) {
        List<StreamConnection> late = new ArrayList<>();
        for (HashMap<InetSocketAddress, StreamConnection> connections : byListener.values()) {
            for (StreamConnection c : connections.values()) {
                if (!c.established && nowNs - c.acceptedAtNs >= limits.firstMessageTimeoutNs()) {
                    late.add(c);
                }
            }
        }
        for (StreamConnection c : late) {
            close(c, LoopCounters.StreamClose.FIRST_MESSAGE_TIMEOUT);
        }
    }

    /** Closes every connection and listening socket: the relay is stopping. */
    @Override
    public void close() {
        List<StreamConnection> all = new ArrayList<>();
        byListener.values().forEach(m -> all.addAll(m.values()));
        for (StreamConnection c : all) {
            close(c, LoopCounters.StreamClose.SHUTDOWN);
        }
        for (Listener l : listeners) {
            try {
                l.server.close();
            } catch (IOException e) {
                log.atDebug().setCause(e).log("close failed");
            }
        }
    }

    private void accept(Listener listener, long nowNs) {
        for (int i = 0; i < ACCEPTS_PER_READINESS; i++) {
            SocketChannel channel;
            try {
                channel = listener.server.accept();
            } catch (IOException e) {
                counters.receiveErrors++; // e.g. out of descriptors: the next readiness tries again
                log.atDebug().setCause(e).log("accept failed");
                return;
            }
            if (channel == null) {
                return;
            }
            try {
                InetSocketAddress client = (InetSocketAddress) channel.getRemoteAddress();
                // behind a balancer the client's IP is known only from the header: its limit is checked then
                boolean refused = (limits.maxConnections() > 0 && open >= limits.maxConnections())
                        || (listener.proxied
                                ? !proxyProtocol.trusts(client.getAddress())
                                : overPerIpLimit(client.getAddress()))
                        || (listener.tls && handshakes != null && !handshakes.take(1, nowNs));
                if (refused) {
                    counters.streamsRefused++;
                    channel.close();
                    continue;
                }
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                TlsSession tls = null;
                if (listener.tls) {
                    SSLEngine engine = listener.context.createSSLEngine();
                    engine.setEnabledProtocols(TlsCertificates.PROTOCOLS);
                    Alpn.offer(engine);
                    tls = new TlsSession(engine);
                }
                StreamConnection c = new StreamConnection(channel, listener.index, client, nowNs, tls);
                if (marks != null) {
                    marks.follow(c);
                }
                c.key = channel.register(selector, SelectionKey.OP_READ, c);
                byListener.get(listener.index).put(client, c);
                if (listener.proxied) {
                    c.awaitingProxyHeader = true;
                } else {
                    countPerIp(c);
                }
                open++;
                counters.streamsAccepted++;
                counters.streamsOpen = open;
            } catch (IOException | RuntimeException e) {
                counters.streamsRefused++;
                log.atDebug().setCause(e).log("cannot take a connection");
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // gone already
                }
            }
        }
    }

    private boolean overPerIpLimit(InetAddress ip) {
        int[] fromIp = perIp.get(ip);
        return limits.connectionsPerIp() > 0 && fromIp != null && fromIp[0] >= limits.connectionsPerIp();
    }

    private void countPerIp(StreamConnection c) {
        perIp.computeIfAbsent(c.client.getAddress(), a -> new int[1])[0]++;
        c.countedPerIp = true;
    }

    private void read(StreamConnection c) {
        for (int round = 0; round < READS_PER_READINESS && !c.closed; round++) {
            int n;
            try {
                if (c.awaitingProxyHeader) {
                    n = readProxyHeader(c);
                    if (c.closed || n == 0) {
                        return;
                    }
                } else if (c.tls == null) {
                    ByteBuffer in = c.in;
                    in.limit(in.capacity()).position(c.filled);
                    n = c.channel.read(in);
                    c.filled = in.position();
                } else {
                    n = c.channel.read(c.tls.readBuffer());
                    if (n > 0 && !c.tls.decrypt(c, limits.maxQueuedBytes(), counters)) {
                        close(c, LoopCounters.StreamClose.CLIENT);
                        return;
                    }
                }
            } catch (javax.net.ssl.SSLException e) {
                log.atDebug().addKeyValue("client", c).setCause(e).log("TLS failed");
                close(c, LoopCounters.StreamClose.TLS);
                return;
            } catch (IOException e) {
                close(c, LoopCounters.StreamClose.ERROR);
                return;
            }
            if (n < 0) {
                close(c, LoopCounters.StreamClose.CLIENT);
                return;
            }
            if (n > 0 && marks != null) {
                marks.afterRead(c);
            }
            if (!frame(c) || n == 0) {
                return;
            }
        }
    }

    /**
     * Reads toward the PROXY v2 header of a connection from a load balancer and, once it is whole, takes the
     * client it names: the bytes after it stay in the plaintext buffer, or go to the TLS engine. Answers the bytes
     * read (0 while more is needed, -1 at the end of the stream); closes the connection if the header is bad.
     */
    private int readProxyHeader(StreamConnection c) throws IOException {
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
            close(c, LoopCounters.StreamClose.PROXY_HEADER);
            return 0;
        }
        InetSocketAddress client = ProxyHeader.source(in, 0);
        HashMap<InetSocketAddress, StreamConnection> connections = byListener.get(c.listener);
        if (client != null && !client.equals(c.client)) {
            if (overPerIpLimit(client.getAddress()) || connections.containsKey(client)) {
                close(c, LoopCounters.StreamClose.PROXY_HEADER);
                return 0;
            }
            connections.remove(c.client);
            c.client = client;
            connections.put(client, c);
        }
        c.awaitingProxyHeader = false;
        countPerIp(c);
        c.consume(length);
        if (c.tls != null && c.filled > 0) {
            // a TLS client's first records came in the same read: they are the engine's, not plaintext
            in = c.in;
            in.limit(c.filled).position(0);
            while (in.hasRemaining()) {
                ByteBuffer net = c.tls.readBuffer();
                int take = Math.min(net.remaining(), in.remaining());
                net.put(net.position(), in, in.position(), take);
                net.position(net.position() + take);
                in.position(in.position() + take);
            }
            c.filled = 0;
            if (!c.tls.decrypt(c, limits.maxQueuedBytes(), counters)) {
                close(c, LoopCounters.StreamClose.CLIENT);
                return 0;
            }
        }
        return n;
    }

    /** Hands every whole message read to the core; false once the connection has closed. */
    private boolean frame(StreamConnection c) {
        int start = 0;
        c.in.limit(c.in.capacity());
        while (!c.closed) {
            int available = c.filled - start;
            int frame = StreamFraming.frame(c.in, start, available);
            if (frame == StreamFraming.MALFORMED) {
                close(c, LoopCounters.StreamClose.MALFORMED);
                return false;
            }
            if (frame == StreamFraming.NEED_MORE) {
                if (available >= 4) {
                    int total = StreamFraming.frameLength(c.in, start);
                    c.consume(start);
                    start = 0;
                    c.ensureCapacity(total); // the rest of a large message needs room to arrive
                }
                break;
            }
            int length = StreamFraming.messageLength(c.in, start);
            if (!c.established && StunMessage.startsLikeStun(c.in, start)) {
                c.established = true;
            }
            counters.streamMessagesReceived++;
            delivery.message(c, c.in, start, length);
            c.in.limit(c.in.capacity()); // forwarding moved it; framing reads by absolute index up to the capacity
            start += frame;
        }
        if (!c.closed) {
            c.consume(start);
        }
        return !c.closed;
    }

    /** A STUN message by its first two bits and its magic cookie (RFC 8489 §5). */
    void close(StreamConnection c, LoopCounters.StreamClose reason) {
        if (c.closed) {
            return;
        }
        c.closed = true;
        if (c.tls != null && reason != LoopCounters.StreamClose.TLS && reason != LoopCounters.StreamClose.ERROR) {
            c.tls.close(c, counters);
        }
        c.key.cancel();
        try {
            c.channel.close();
        } catch (IOException e) {
            counters.closeErrors++;
        }
        byListener.get(c.listener).remove(c.client);
        int[] fromIp = c.countedPerIp ? perIp.get(c.client.getAddress()) : null;
        if (fromIp != null && --fromIp[0] <= 0) {
            perIp.remove(c.client.getAddress());
        }
        open--;
        counters.streamsOpen = open;
        counters.streamsClosed[reason.ordinal()]++;
        log.atDebug().addKeyValue("client", c).addKeyValue("reason", reason).log("connection closed");
        delivery.closed(c);
    }
}
