package dev.turnpike.daemon.stream;

import dev.turnpike.core.proxy.ProxyHeader;
import dev.turnpike.daemon.loop.LoopCounters;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;

/**
 * The port shared with a web site (--https-backend): a TLS connection whose first bytes are not STUN goes, in
 * plain text and byte for byte both ways, to the web server behind the relay, with a PROXY v2 header first if
 * asked. On the loop's selector like every socket of the relay: the connect does not block, and neither side ever
 * makes the loop wait for the other (see {@link WebPassage} for how each waits instead). A backend that refuses
 * or does not answer within --first-message-timeout of the accept gets the client a clean close (TLS
 * close_notify), counted; so does one on which nothing moves for --https-backend-idle-timeout. A client that
 * closes ends the exchange, as a reverse proxy's default is (nginx's proxy_ignore_client_abort off). Loop thread
 * only.
 */
final class WebPassages {
    private final HttpsBackend backend;
    private final Selector selector;
    private final LoopCounters counters;
    private final StreamCloser closer;
    /** Moves the bytes both ways (one read buffer for every passage, the peer connections' too). */
    private final Pipe pipe;

    /** The passages, by client connection: a connection's plaintext, once here, is never framed as TURN. */
    private final IdentityHashMap<StreamConnection, WebPassage> open = new IdentityHashMap<>();

    /** With no {@code backend} (null), no connection is ever passed. */
    WebPassages(HttpsBackend backend, Selector selector, LoopCounters counters, StreamCloser closer, Pipe pipe) {
        this.pipe = pipe;
        this.backend = backend;
        this.selector = selector;
        this.counters = counters;
        this.closer = closer;
    }

    /**
     * Whether the plaintext just read on {@code c} is for the backend (passed on, or waiting to be told apart):
     * false for TURN, which the caller frames. Only a TLS connection that has sent no STUN message yet, and did not
     * choose stun.turn by ALPN, may become a passage.
     */
    boolean takes(StreamConnection c, long nowNs) {
        if (backend == null || c.tls == null) {
            return false; // TURN's data path: no lookup
        }
        WebPassage passage = open.get(c);
        if (passage != null) {
            pipe.toOther(passage, nowNs);
            return true;
        }
        if (c.established || Alpn.STUN_TURN.equals(c.tls.applicationProtocol())) {
            return false;
        }
        return switch (FirstBytes.classify(c.in, c.filled)) {
            case FirstBytes.TURN -> false;
            case FirstBytes.WEB -> {
                open(c, nowNs);
                yield true;
            }
            default -> true;
        };
    }

    private void open(StreamConnection c, long nowNs) {
        counters.webPassages++;
        SocketChannel channel = null;
        try {
            InetSocketAddress server = backend.addressFor(c.tls.applicationProtocol());
            channel = SocketChannel.open(
                    server.getAddress() instanceof java.net.Inet4Address
                            ? StandardProtocolFamily.INET
                            : StandardProtocolFamily.INET6);
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            WebPassage p = new WebPassage(c, channel, nowNs);
            if (backend.proxyProtocol()) {
                p.header = ByteBuffer.allocate(ProxyHeader.MAX_WRITTEN);
                ProxyHeader.write(p.header, c.client, (InetSocketAddress) c.channel.getLocalAddress());
                p.header.flip();
            }
            boolean connected = channel.connect(server);
            p.key = channel.register(selector, SelectionKey.OP_CONNECT, p);
            open.put(c, p);
            p.readClient(false); // its first bytes wait for the backend to accept
            if (connected) {
                connected(p, nowNs);
            }
        } catch (IOException | RuntimeException e) {
            if (channel != null && !open.containsKey(c)) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // never connected
                }
            }
            closer.close(c, LoopCounters.StreamClose.BACKEND_UNREACHABLE);
        }
    }

    private void connected(WebPassage p, long nowNs) {
        p.connected = true;
        p.client.established = true;
        p.lastMovedNs = nowNs;
        p.key.interestOps(SelectionKey.OP_READ);
        pipe.toOther(p, nowNs);
    }

    /** A backend's socket is ready: connected, writable (the client's bytes waiting), readable. */
    void onReady(SelectionKey key, long nowNs, long maxQueued) {
        WebPassage p = (WebPassage) key.attachment();
        if (!key.isValid() || p.client.closed) {
            return;
        }
        if (key.isConnectable()) {
            try {
                if (!p.other.finishConnect()) {
                    return;
                }
            } catch (IOException e) {
                closer.close(p.client, LoopCounters.StreamClose.BACKEND_UNREACHABLE);
                return;
            }
            connected(p, nowNs);
            return;
        }
        if (key.isWritable()) {
            pipe.toOther(p, nowNs);
        }
        if (!p.client.closed && key.isValid() && key.isReadable()) {
            pipe.fromOther(p, nowNs, maxQueued);
        }
    }

    /** {@code c} has written all it had queued: the backend may be read again, or an ended passage closes. */
    void clientDrained(StreamConnection c) {
        WebPassage p = open.get(c);
        if (p != null) {
            pipe.clientDrained(p);
        }
    }

    /** Ends passages whose backend did not accept within {@code connectWithinNs} of the accept, or sat idle. */
    void sweep(long nowNs, long connectWithinNs) {
        List<WebPassage> late = new ArrayList<>();
        for (WebPassage p : open.values()) {
            if (p.connected
                    ? nowNs - p.lastMovedNs >= backend.idleTimeoutNs()
                    : nowNs - p.client.acceptedAtNs >= connectWithinNs) {
                late.add(p);
            }
        }
        for (WebPassage p : late) {
            closer.close(
                    p.client,
                    p.connected ? LoopCounters.StreamClose.BACKEND_IDLE : LoopCounters.StreamClose.BACKEND_UNREACHABLE);
        }
    }

    /** {@code c} is closing: its backend connection closes with it. */
    void closed(StreamConnection c) {
        WebPassage p = open.remove(c);
        if (p == null) {
            return;
        }
        p.key.cancel();
        try {
            p.other.close();
        } catch (IOException e) {
            counters.closeErrors++;
        }
    }
}
