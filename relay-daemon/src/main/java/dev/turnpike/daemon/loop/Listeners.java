package dev.turnpike.daemon.loop;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * What each listener number means: the core names a client's listening socket by its index, and this table, built
 * once from the flags, says which index is which address, transport and PROXY setting. The start-up, the workers'
 * binding and the stream transport ask it instead of counting. The loop's {@link Transports} routes each number to
 * its transport from this table.
 */
public record Listeners(List<Listener> all) {
    /** How clients reach a listener; each kind is served by a {@link Transport}. */
    public enum Kind {
        UDP,
        TCP,
        TLS,
        DTLS;

        /** Whether its sockets take datagrams (UDP, DTLS), not connections. */
        public boolean datagrams() {
            return this == UDP || this == DTLS;
        }

        /** As the start-up log and the flags write it. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One listening address; {@code proxied}: a TCP or TLS listener that takes a PROXY protocol v2 header. */
    public record Listener(int index, InetSocketAddress address, Kind transport, boolean proxied) {}

    public Listeners {
        all = List.copyOf(all);
    }

    /** The listeners of --listen, --listen-tcp and --listen-tls, those of --proxy-protocol marked. */
    public static Listeners of(
            List<InetSocketAddress> udp,
            List<InetSocketAddress> tcp,
            List<InetSocketAddress> tls,
            Set<InetSocketAddress> proxyProtocol) {
        return of(udp, tcp, tls, List.of(), proxyProtocol);
    }

    /** The listeners of --listen, --listen-tcp, --listen-tls and --listen-dtls, those of --proxy-protocol marked. */
    public static Listeners of(
            List<InetSocketAddress> udp,
            List<InetSocketAddress> tcp,
            List<InetSocketAddress> tls,
            List<InetSocketAddress> dtls,
            Set<InetSocketAddress> proxyProtocol) {
        List<Listener> all = new ArrayList<>();
        for (InetSocketAddress address : udp) {
            all.add(new Listener(all.size(), address, Kind.UDP, false));
        }
        for (InetSocketAddress address : tcp) {
            all.add(new Listener(all.size(), address, Kind.TCP, proxyProtocol.contains(address)));
        }
        for (InetSocketAddress address : tls) {
            all.add(new Listener(all.size(), address, Kind.TLS, proxyProtocol.contains(address)));
        }
        for (InetSocketAddress address : dtls) {
            all.add(new Listener(all.size(), address, Kind.DTLS, false));
        }
        return new Listeners(all);
    }

    /** The same listeners at the addresses they were bound to ({@code bound}, by index: port 0 resolved). */
    public Listeners bound(List<InetSocketAddress> bound) {
        if (bound.size() != all.size()) {
            throw new IllegalArgumentException(bound.size() + " bound addresses for " + all.size() + " listeners");
        }
        List<Listener> resolved = new ArrayList<>();
        for (Listener l : all) {
            resolved.add(new Listener(l.index(), bound.get(l.index()), l.transport(), l.proxied()));
        }
        return new Listeners(resolved);
    }

    /** The listeners of one transport, in index order. */
    public List<Listener> of(Kind transport) {
        return all.stream().filter(l -> l.transport() == transport).toList();
    }

    /** The addresses of one transport, in index order. */
    public List<InetSocketAddress> addresses(Kind transport) {
        return of(transport).stream().map(Listener::address).toList();
    }

    /** Every address, by index: what the core's configuration lists. */
    public List<InetSocketAddress> addresses() {
        return all.stream().map(Listener::address).toList();
    }

    Listener get(int index) {
        return all.get(index);
    }

    public int count() {
        return all.size();
    }
}
