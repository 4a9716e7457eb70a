package dev.turnpike.daemon.stream;

import dev.turnpike.core.RelayEndpoint;
import dev.turnpike.daemon.loop.ClientInput;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.TcpRelaySockets;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.channels.NetworkChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * RFC 6062 on the loop: each TCP relayed address a listening socket, and the connections between it and peers,
 * opened when the core asks (Connect) or accepted when a peer connects and the core gives it an id; once a client
 * data connection is bound to one, the two are a {@link Passage} and the {@link Pipe} moves the bytes. Connects
 * never block; the core times them out. Every socket is bound to the relayed address with SO_REUSEPORT, so that the
 * connections a relayed address makes leave from it, beside its listening socket. Loop thread only.
 */
final class TcpRelays implements TcpRelaySockets {
    private static final Logger log = LoggerFactory.getLogger(TcpRelays.class);
    private static final int ACCEPTS_PER_READINESS = 16;
    private static final int BACKLOG = 64;

    private final Selector selector;
    private final LoopCounters counters;
    private final ClientInput core;
    private final Pipe pipe;
    private final StreamCloser closer;
    /** A client connection by listener and address. */
    private final BiFunction<Integer, InetSocketAddress, StreamConnection> clients;

    private final HashMap<RelayEndpoint, TcpRelayListener> listeners = new HashMap<>();
    /** The client data connections bound to peer connections (each marked {@code bound}). */
    private final IdentityHashMap<StreamConnection, PeerConnection> bound = new IdentityHashMap<>();
    /** Hands a client connection to another worker. */
    private Arrivals arrivals;

    /** Connects that ended at once, while the core's commands were carried out: told to it at the pass's end. */
    private final ArrayDeque<PeerConnection> doneAtOnce = new ArrayDeque<>();

    TcpRelays(
            Selector selector,
            LoopCounters counters,
            ClientInput core,
            Pipe pipe,
            StreamCloser closer,
            BiFunction<Integer, InetSocketAddress, StreamConnection> clients) {
        this.selector = selector;
        this.counters = counters;
        this.core = core;
        this.pipe = pipe;
        this.closer = closer;
        this.clients = clients;
    }

    /** Connections a ConnectionBind sends to another worker go by {@code arrivals}; set once, at the start. */
    void passBy(Arrivals arrivals) {
        this.arrivals = arrivals;
    }

    @Override
    public void pass(int listener, InetSocketAddress client, int worker) {
        arrivals.pass(clients.apply(listener, client), worker);
    }

    @Override
    public boolean open(RelayEndpoint endpoint) {
        ServerSocketChannel server = null;
        try {
            server = ServerSocketChannel.open(family(endpoint.local()));
            reuse(server);
            server.bind(endpoint.local(), BACKLOG);
            server.configureBlocking(false);
            TcpRelayListener l = new TcpRelayListener(endpoint, server);
            l.key = server.register(selector, SelectionKey.OP_ACCEPT, l);
            listeners.put(endpoint, l);
            return true;
        } catch (IOException | RuntimeException e) {
            log.atDebug()
                    .addKeyValue("relay", Addresses.format(endpoint.local()))
                    .setCause(e)
                    .log("cannot listen on a TCP relay port");
            quietly(server);
            return false;
        }
    }

    @Override
    public void release(RelayEndpoint endpoint) {
        TcpRelayListener l = listeners.remove(endpoint);
        if (l == null) {
            return;
        }
        l.key.cancel();
        quietly(l.server);
        for (PeerConnection p : new ArrayList<>(l.connections.values())) {
            drop(p, LoopCounters.StreamClose.ALLOCATION_ENDED);
        }
    }

    @Override
    public void connect(RelayEndpoint relay, InetSocketAddress peer, int id) {
        TcpRelayListener l = listeners.get(relay);
        SocketChannel channel = null;
        try {
            channel = SocketChannel.open(family(relay.local()));
            channel.configureBlocking(false);
            reuse(channel);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.bind(relay.local()); // the peer sees the relayed address (RFC 6062 §5.2)
            PeerConnection p = new PeerConnection(relay, id, channel);
            boolean connected = channel.connect(peer);
            p.key = channel.register(selector, connected ? 0 : SelectionKey.OP_CONNECT, p);
            if (l == null) {
                throw new IOException("no TCP relayed address " + relay);
            }
            l.connections.put(id, p);
            counters.tcpRelayConnects++;
            if (connected) {
                p.connected = true;
                doneAtOnce.add(p); // told at the pass's end, as a failure is
            }
        } catch (IOException | RuntimeException e) {
            log.atDebug()
                    .addKeyValue("peer", Addresses.format(peer))
                    .setCause(e)
                    .log("cannot connect to a peer");
            quietly(channel);
            PeerConnection failed = new PeerConnection(relay, id, null);
            doneAtOnce.add(failed);
        }
    }

    /** Tells the core of connects that ended before the loop waited on them (the core is not called re-entrantly). */
    void endOfPass() {
        for (PeerConnection p = doneAtOnce.poll(); p != null; p = doneAtOnce.poll()) {
            reported(p, p.connected);
        }
    }

    @Override
    public void bind(int listener, InetSocketAddress client, RelayEndpoint relay, int id) {
        TcpRelayListener l = listeners.get(relay);
        PeerConnection p = l == null ? null : l.connections.get(id);
        StreamConnection c = clients.apply(listener, client);
        if (c == null || c.closed) {
            if (p != null) {
                drop(p, LoopCounters.StreamClose.CLIENT);
                core.connectionClosed(relay, id);
            }
            return;
        }
        if (p == null || p.client != null || !p.connected) {
            closer.close(c, LoopCounters.StreamClose.PEER_CLOSED); // gone meanwhile
            core.connectionClosed(relay, id);
            return;
        }
        p.client = c;
        c.bound = true; // the stream transport hands it the bytes after the ConnectionBind
        bound.put(c, p);
        c.established = true;
        p.key.interestOps(SelectionKey.OP_READ);
    }

    @Override
    public void close(RelayEndpoint relay, int id) {
        TcpRelayListener l = listeners.get(relay);
        PeerConnection p = l == null ? null : l.connections.get(id);
        if (p != null) {
            drop(p, LoopCounters.StreamClose.PEER_CLOSED);
        }
    }

    /** A relayed address's listening socket or a peer connection's is ready. */
    void onReady(SelectionKey key, long nowNs, long maxQueued) {
        switch (key.attachment()) {
            case TcpRelayListener l -> accept(l, nowNs);
            case PeerConnection p -> {
                if (key.isConnectable()) {
                    boolean ok;
                    try {
                        ok = p.other.finishConnect();
                        if (!ok) {
                            return;
                        }
                    } catch (IOException e) {
                        ok = false;
                    }
                    p.connected = ok;
                    if (ok) {
                        key.interestOps(0); // not read until a client is bound to it
                    }
                    reported(p, ok); // a failed connect's channel is closed (its key cancelled) already
                    return;
                }
                if (p.client == null || p.client.closed) {
                    return;
                }
                if (key.isWritable()) {
                    pipe.toOther(p, nowNs);
                }
                if (!p.client.closed && key.isValid() && key.isReadable()) {
                    pipe.fromOther(p, nowNs, maxQueued);
                }
            }
            default -> throw new IllegalStateException("not a TCP relay key: " + key.attachment());
        }
    }

    private void reported(PeerConnection p, boolean ok) {
        boolean keep = core.peerConnected(p.relay, p.id, ok);
        if (!keep && p.other != null) {
            forget(p);
        }
    }

    private void accept(TcpRelayListener l, long nowNs) {
        for (int i = 0; i < ACCEPTS_PER_READINESS; i++) {
            SocketChannel channel;
            try {
                channel = l.server.accept();
            } catch (IOException e) {
                counters.receiveErrors++;
                return;
            }
            if (channel == null) {
                return;
            }
            try {
                InetSocketAddress peer = (InetSocketAddress) channel.getRemoteAddress();
                int id = core.peerAccepted(l.relay, peer);
                if (id == 0 || !listeners.containsKey(l.relay)) {
                    log.atDebug()
                            .addKeyValue("relay", Addresses.format(l.relay.local()))
                            .addKeyValue("peer", Addresses.format(peer))
                            .log("peer connection refused: no permission, one from there already, or over the limit");
                    counters.tcpRelayPeersRefused++;
                    channel.close();
                    continue;
                }
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                PeerConnection p = new PeerConnection(l.relay, id, channel);
                p.connected = true;
                p.key = channel.register(selector, 0, p); // not read until a client is bound to it
                l.connections.put(id, p);
                counters.tcpRelayAccepted++;
            } catch (IOException | RuntimeException e) {
                log.atDebug().setCause(e).log("cannot take a peer connection");
                quietly(channel);
            }
        }
    }

    /** {@code c}, a bound data connection, is closing: its peer connection closes with it. */
    void clientClosed(StreamConnection c) {
        PeerConnection p = c.bound ? bound.remove(c) : null;
        if (p == null) {
            return;
        }
        forget(p);
        core.connectionClosed(p.relay, p.id);
    }

    /** {@code c} has written all it had queued: its peer may be read again. */
    void clientDrained(StreamConnection c) {
        PeerConnection p = c.bound ? bound.get(c) : null;
        if (p != null) {
            pipe.clientDrained(p);
        }
    }

    /** Bytes a bound data connection read: to its peer. */
    void toPeer(StreamConnection c, long nowNs) {
        PeerConnection p = bound.get(c);
        if (p != null) {
            pipe.toOther(p, nowNs);
        }
    }

    /** Every TCP relayed address and connection closes: the relay is stopping. */
    void closeAll() {
        for (RelayEndpoint endpoint : new ArrayList<>(listeners.keySet())) {
            release(endpoint);
        }
    }

    /** Closes {@code p}'s socket and takes it out of its relayed address's connections. */
    private void forget(PeerConnection p) {
        TcpRelayListener l = listeners.get(p.relay);
        if (l != null) {
            l.connections.remove(p.id, p);
        }
        p.key.cancel();
        quietly(p.other);
    }

    private void drop(PeerConnection p, LoopCounters.StreamClose reason) {
        forget(p);
        if (p.client != null && !p.client.closed) {
            bound.remove(p.client); // closed here: the core is not told again
            closer.close(p.client, reason);
        }
    }

    private static void reuse(NetworkChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
    }

    private static StandardProtocolFamily family(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address
                ? StandardProtocolFamily.INET6
                : StandardProtocolFamily.INET;
    }

    private void quietly(java.nio.channels.Channel channel) {
        if (channel == null) {
            return;
        }
        try {
            channel.close();
        } catch (IOException e) {
            counters.closeErrors++;
        }
    }
}
