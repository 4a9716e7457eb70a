package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.log.RepeatedWarnings;
import dev.turnpike.daemon.loop.ClientInput;
import dev.turnpike.daemon.loop.Listeners;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.TcpRelaySockets;
import dev.turnpike.daemon.loop.TrafficClass;
import dev.turnpike.daemon.loop.Transport;
import dev.turnpike.daemon.loop.TransportContext;
import dev.turnpike.daemon.loop.UdpSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TURN over TCP and TLS (RFC 8656 §3.1) on the loop's own selector: listening sockets that accept, and client
 * connections read into messages by {@code StreamFraming} and handed to the core exactly as datagrams are. The
 * relayed side stays UDP. Loop thread only.
 *
 * <p>Backpressure: a connection whose socket will not take more keeps what it was sent in a queue of its own, up
 * to {@code --max-connection-queued-bytes}; past that the connection is closed and counted. One slow TCP client
 * so costs only itself: the loop never suspends for a stream (docs/architecture.md says why).
 */
public final class StreamTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(StreamTransport.class);
    /** Reads a connection gets per readiness before the loop moves on: fairness between clients. */
    private static final int READS_PER_READINESS = 8;
    /** {@link #framed}: the connection went to another worker. */
    private static final int HANDED_OVER = -2;

    private final Selector selector;
    private final LoopCounters counters;
    private StreamLimits limits;
    private final ClientInput delivery;
    private final List<StreamListener> listeners = new ArrayList<>();
    private final HashMap<Integer, HashMap<InetSocketAddress, StreamConnection>> byListener = new HashMap<>();
    /** Who may connect: the limits on connections, per IP and on TLS handshakes. */
    private final ConnectionAdmission admission;

    /** Whether listeners bind with SO_REUSEPORT: each worker listens on the same addresses. */
    private final boolean reusePort;

    /** The certificates new TLS connections get (replaced on a reload), or null without a TLS listener. */
    private SSLContext context;

    private final RepeatedWarnings warnings = new RepeatedWarnings();
    /** Reads each connection's DSCP (--dscp-preserve), or null. */
    private final TrafficClass marks;

    private final ProxyHeaderReader proxyHeaders;
    /** Messages to clients: gathered for a pass, then written (or queued). */
    private final StreamWrites writes;
    /** The port shared with a web site: TLS connections that do not start as TURN go to the backend. */
    private final WebPassages passages;
    /** The backend's ALPN protocols, offered beside stun.turn; none without a backend. */
    private final List<String> webProtocols;
    /** RFC 6062: TCP relayed addresses and the connections to peers, paired with client data connections. */
    private final TcpRelays tcpRelays;
    /** Connections accepted, or passed between workers (a ConnectionBind for another's peer connection). */
    private final Arrivals arrivals;

    /**
     * On the loop of {@code loop}: TLS listeners with {@code context}'s certificates, PROXY headers from {@code
     * proxy}, a web site behind the TLS port at {@code backend} (or null); worker {@code worker} of those {@code
     * handOff} passes connections between.
     */
    public StreamTransport(
            TransportContext loop,
            StreamLimits limits,
            ProxyProtocol proxyProtocol,
            SSLContext context,
            HttpsBackend backend,
            HandOff handOff,
            int worker) {
        this.marks = loop.marks();
        this.context = context;
        this.reusePort = loop.reusePort();
        this.selector = loop.selector();
        this.counters = loop.counters();
        this.limits = limits;
        this.delivery = loop.input();
        this.admission = new ConnectionAdmission(limits, proxyProtocol, System.nanoTime());
        this.proxyHeaders = new ProxyHeaderReader(admission, counters);
        Pipe pipe = new Pipe(counters, this::close);
        this.passages = new WebPassages(backend, selector, counters, this::close, pipe);
        this.tcpRelays = new TcpRelays(selector, counters, delivery, pipe, this::close, this::connection);
        this.writes = new StreamWrites(counters, this::close);
        this.webProtocols = backend == null ? List.of() : backend.protocols();
        this.arrivals = new Arrivals(selector, counters, admission, byListener, marks, webProtocols, handOff, worker);
        tcpRelays.passBy(arrivals);
    }

    @Override
    public void listen(Listeners.Listener l) throws IOException {
        StreamListener listener = StreamListener.bind(
                l.address(), l.index(), l.transport() == Listeners.Kind.TLS ? context : null, l.proxied(), reusePort);
        listener.server.register(selector, SelectionKey.OP_ACCEPT, listener);
        listeners.add(listener);
        byListener.put(l.index(), new HashMap<>());
    }

    @Override
    public boolean owns(SelectionKey key) {
        return key.attachment() instanceof StreamListener
                || key.attachment() instanceof StreamConnection
                || key.attachment() instanceof WebPassage
                || key.attachment() instanceof PeerConnection
                || key.attachment() instanceof TcpRelayListener;
    }

    @Override
    public InetSocketAddress boundAddress(int listener) throws IOException {
        for (StreamListener l : listeners) {
            if (l.index == listener) {
                return (InetSocketAddress) l.server.getLocalAddress();
            }
        }
        throw new IllegalArgumentException("no stream listener " + listener);
    }

    /** A reload: certificates for new TLS connections, and the limits from now on. */
    public void reconfigure(SSLContext context, StreamLimits next, long nowNs) {
        if (context != null) {
            this.context = context;
        }
        for (StreamListener l : listeners) {
            if (l.tls && context != null) {
                l.context = context;
            }
        }
        admission.reconfigure(next, nowNs);
        limits = next;
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
            case StreamListener l -> arrivals.accept(l, nowNs);
            case StreamConnection c -> {
                if (key.isWritable()) {
                    try {
                        c.flush(counters);
                    } catch (IOException e) {
                        close(c, LoopCounters.StreamClose.ERROR);
                        return;
                    }
                    if (c.pending.isEmpty()) {
                        passages.clientDrained(c);
                        tcpRelays.clientDrained(c);
                    }
                }
                if (key.isValid() && key.isReadable()) {
                    read(c, nowNs);
                }
            }
            case WebPassage p -> passages.onReady(key, nowNs, limits.maxQueuedBytes());
            case PeerConnection p -> tcpRelays.onReady(key, nowNs, limits.maxQueuedBytes());
            case TcpRelayListener l -> tcpRelays.onReady(key, nowNs, limits.maxQueuedBytes());
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
            StreamWrites.pad(bytes);
        }
        write(listener, client, bytes, flow == null && !channelData); // a control message: alone
    }

    /** The connection of {@code client} on {@code listener}, or null. */
    private StreamConnection connection(int listener, InetSocketAddress client) {
        HashMap<InetSocketAddress, StreamConnection> connections = byListener.get(listener);
        return connections == null ? null : connections.get(client);
    }

    private void write(int listener, InetSocketAddress client, ByteBuffer bytes, boolean alone) {
        StreamConnection c = connection(listener, client);
        if (c == null || c.closed) {
            counters.sendErrors++;
            return;
        }
        writes.send(c, bytes, limits.maxQueuedBytes(), alone);
    }

    /** Writes the messages each connection gathered this pass: one write (one TLS record) a connection. */
    @Override
    public void endOfPass(long nowNs) {
        writes.endOfPass(limits.maxQueuedBytes());
        tcpRelays.endOfPass();
        for (StreamConnection c = arrivals.adopted(); c != null; c = arrivals.adopted()) {
            if (framed(c, nowNs) == StreamConnection.MALFORMED) { // its request, for this worker's core (never back)
                close(c, LoopCounters.StreamClose.MALFORMED);
            }
        }
    }

    /** Closes connections that sent no STUN message within the first-message timeout (slowloris, TLS or not). */
    @Override
    public void sweep(long nowNs) {
        passages.sweep(nowNs, limits.firstMessageTimeoutNs());
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
        tcpRelays.closeAll();
        List<StreamConnection> all = new ArrayList<>();
        byListener.values().forEach(m -> all.addAll(m.values()));
        for (StreamConnection c : all) {
            close(c, LoopCounters.StreamClose.SHUTDOWN);
        }
        for (StreamListener l : listeners) {
            try {
                l.server.close();
            } catch (IOException e) {
                log.atDebug().setCause(e).log("close failed");
            }
        }
    }

    private void read(StreamConnection c, long nowNs) {
        for (int round = 0; round < READS_PER_READINESS && !c.closed; round++) {
            int n;
            try {
                if (c.awaitingProxyHeader) {
                    n = proxyHeaders.read(c, byListener.get(c.listener), limits.maxQueuedBytes());
                    if (n == ProxyHeaderReader.REFUSED || n == ProxyHeaderReader.TLS_CLOSED) {
                        close(
                                c,
                                n == ProxyHeaderReader.REFUSED
                                        ? LoopCounters.StreamClose.PROXY_HEADER
                                        : LoopCounters.StreamClose.CLIENT);
                        return;
                    }
                    if (n == 0) {
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
                c.afterRead(marks);
            }
            if (c.bound) {
                tcpRelays.toPeer(c, nowNs);
            } else if (!passages.takes(c, nowNs)) {
                int framed = framed(c, nowNs);
                if (framed == HANDED_OVER) {
                    return; // another worker's from now on: not to be touched here
                }
                if (framed == StreamConnection.MALFORMED) {
                    close(c, LoopCounters.StreamClose.MALFORMED);
                    return;
                }
            }
            if (c.closed || n == 0 || (c.key.interestOps() & SelectionKey.OP_READ) == 0) {
                return; // closed, read dry, or held until a web backend has taken the bytes
            }
        }
    }

    /** Closes {@code c}, counted by {@code reason}; its allocation ends with it (the loop is told). */
    void close(StreamConnection c, LoopCounters.StreamClose reason) {
        if (c.closed) {
            return;
        }
        c.closed = true;
        if (c.tls != null && reason != LoopCounters.StreamClose.TLS && reason != LoopCounters.StreamClose.ERROR) {
            c.tls.close(c, counters);
        }
        c.key.cancel();
        passages.closed(c);
        tcpRelays.clientClosed(c);
        writes.dropped(c);
        try {
            c.channel.close();
        } catch (IOException e) {
            counters.closeErrors++;
        }
        byListener.get(c.listener).remove(c.client);
        counters.streamsOpen = admission.closed(c);
        counters.streamsClosed[reason.ordinal()]++;
        log.atDebug().addKeyValue("client", c).addKeyValue("reason", reason).log("connection closed");
        delivery.closed(c.listener, c.client);
    }

    /**
     * Frames what {@code c} read; then a connection bound by a ConnectionBind sends what followed it to its peer, and
     * one whose ConnectionBind is another worker's goes there.
     */
    private int framed(StreamConnection c, long nowNs) {
        int framed = c.frame(delivery, counters);
        if (c.handedOff) {
            writes.dropped(c);
            arrivals.handOver(c);
            return HANDED_OVER;
        } else if (c.bound && c.filled > 0) {
            tcpRelays.toPeer(c, nowNs);
        }
        return framed;
    }

    /** RFC 6062's sockets: what the core asks of TCP relayed addresses, kept here beside the client connections. */
    @Override
    public TcpRelaySockets tcpRelaySockets() {
        return tcpRelays;
    }
}
