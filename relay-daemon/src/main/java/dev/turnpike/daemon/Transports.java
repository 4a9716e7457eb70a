package dev.turnpike.daemon;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.function.Supplier;
import javax.net.ssl.SSLContext;

/**
 * The loop's transports and which serves each listener number: listener {@code i} is served by {@link #of}{@code
 * (i)}, so a packet to a client leaves by its listener's transport and nothing else needs to know which that is.
 * UDP is always there (relay sockets are UDP); TCP and TLS once a listener asks for them. A new transport is a new
 * {@link Transport} and its entry here. Loop thread only.
 */
final class Transports {
    private DatagramTransport datagrams;
    /** TCP and TLS listeners and their connections; null until a listener asks for them. */
    private StreamTransport streams;

    private Transport[] byListener = new Transport[0];

    /**
     * The UDP transport; set once, before {@link #listen}. (It is made after this table: what it delivers is
     * answered through the table.)
     */
    void datagrams(DatagramTransport datagrams) {
        this.datagrams = datagrams;
    }

    /** Binds the listeners of {@code listeners} of {@code kinds}, each by its transport (made on first use). */
    void listen(Listeners listeners, List<Listeners.Transport> kinds, Supplier<StreamTransport> newStreams)
            throws IOException {
        for (Listeners.Listener l : listeners.all()) {
            if (!kinds.contains(l.transport())) {
                continue;
            }
            Transport transport = switch (l.transport()) {
                case UDP -> datagrams;
                case TCP, TLS -> {
                    if (streams == null) {
                        streams = newStreams.get();
                    }
                    yield streams;
                }
            };
            transport.listen(l);
            if (l.index() >= byListener.length) {
                byListener = java.util.Arrays.copyOf(byListener, l.index() + 1);
            }
            byListener[l.index()] = transport;
        }
    }

    Transport of(int listener) {
        return byListener[listener];
    }

    /** The bound listening addresses, by listener number (ports resolved when 0 was asked). */
    List<InetSocketAddress> boundAddresses() throws IOException {
        List<InetSocketAddress> bound = new ArrayList<>();
        for (int i = 0; i < byListener.length; i++) {
            bound.add(byListener[i].boundAddress(i));
        }
        return bound;
    }

    /** A key is ready: a datagram socket's always, a stream's only while the loop {@code mayRead}. */
    void onReady(SelectionKey key, long nowNs, boolean mayRead) {
        if (key.attachment() instanceof UdpSocket) {
            datagrams.onReady(key, nowNs);
        } else if (mayRead) {
            streams.onReady(key, nowNs);
        }
    }

    /** A reload: new TLS certificates for connections accepted from now on, and new stream limits. */
    void reconfigureStreams(SSLContext context, StreamTransport.Limits limits, long nowNs) {
        if (streams != null) {
            streams.reconfigure(context, limits, nowNs);
        }
    }

    /** Sweeps every transport once. */
    void sweep(long nowNs) {
        for (Transport t : distinct()) {
            t.sweep(nowNs);
        }
    }

    /** Closes every transport's sockets: the relay is stopping. */
    void close() {
        if (streams != null) {
            streams.close();
        }
        datagrams.close();
    }

    private List<Transport> distinct() {
        IdentityHashMap<Transport, Boolean> seen = new IdentityHashMap<>();
        List<Transport> all = new ArrayList<>();
        for (Transport t : byListener) {
            if (t != null && seen.put(t, Boolean.TRUE) == null) {
                all.add(t);
            }
        }
        return all;
    }
}
