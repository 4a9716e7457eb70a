package dev.turnpike.daemon.loop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The loop's transports and which serves each listener number: listener {@code i} is served by {@link #of}{@code
 * (i)}, so a packet to a client leaves by its listener's transport and nothing else needs to know which that is.
 * UDP is always there (relay sockets are UDP); the others (TCP and TLS today) once a listener asks for them. A new
 * transport is a new {@link Transport} and its kinds in {@link Listeners}. Loop thread only.
 */
final class Transports {
    private DatagramTransport datagrams;
    /** The transports besides UDP, each once. */
    private final List<Transport> others = new ArrayList<>();

    private Transport[] byListener = new Transport[0];

    /**
     * The UDP transport; set once, before {@link #listen}. (It is made after this table: what it delivers is
     * answered through the table.)
     */
    void datagrams(DatagramTransport datagrams) {
        this.datagrams = datagrams;
    }

    /**
     * Binds the listeners of {@code listeners} of {@code kinds} by UDP or, for another kind, by the transport {@code
     * make} makes (once: it serves them all). Answers that transport, or null when it made none.
     */
    Transport listen(Listeners listeners, List<Listeners.Kind> kinds, Supplier<Transport> make) throws IOException {
        Transport made = null;
        for (Listeners.Listener l : listeners.all()) {
            if (!kinds.contains(l.transport())) {
                continue;
            }
            Transport transport;
            if (l.transport() == Listeners.Kind.UDP) {
                transport = datagrams;
            } else {
                if (made == null) {
                    made = make.get();
                    others.add(made);
                }
                transport = made;
            }
            transport.listen(l);
            if (l.index() >= byListener.length) {
                byListener = java.util.Arrays.copyOf(byListener, l.index() + 1);
            }
            byListener[l.index()] = transport;
        }
        return made;
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

    /**
     * A key is ready: a datagram socket's always (the datagram transport itself passes over a socket while reading
     * is stopped, so that it is read first later), another transport's only while the loop may read ({@link
     * DatagramTransport#mayRead}: no batch held, the send queue not at its bound).
     */
    void onReady(SelectionKey key, long nowNs) {
        if (datagrams.owns(key)) {
            datagrams.onReady(key, nowNs);
        } else if (datagrams.mayRead()) {
            for (Transport t : others) {
                if (t.owns(key)) {
                    t.onReady(key, nowNs);
                    return;
                }
            }
        }
    }

    /** Lets every transport write what it gathered this pass ({@link Transport#endOfPass}). */
    void endOfPass(long nowNs) {
        for (Transport t : others) {
            t.endOfPass(nowNs);
        }
    }

    /** Sweeps every transport once. */
    void sweep(long nowNs) {
        datagrams.sweep(nowNs);
        for (Transport t : others) {
            t.sweep(nowNs);
        }
    }

    /** Closes every transport's sockets: the relay is stopping. */
    void close() {
        for (Transport t : others) {
            t.close();
        }
        datagrams.close();
    }
}
