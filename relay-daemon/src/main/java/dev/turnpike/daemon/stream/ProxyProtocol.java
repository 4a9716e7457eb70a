package dev.turnpike.daemon.stream;

import dev.turnpike.core.policy.Cidr;
import dev.turnpike.daemon.loop.Listeners;
import java.net.InetAddress;
import java.util.List;

/**
 * The addresses a load balancer that speaks PROXY protocol v2 may connect from, to the listeners that take its
 * header ({@link Listeners.Listener#proxied}): a header from anyone else would let a client claim any address,
 * so a connection from elsewhere is refused.
 */
public record ProxyProtocol(List<Cidr> from) {
    public static final ProxyProtocol NONE = new ProxyProtocol(List.of());

    boolean trusts(InetAddress balancer) {
        return Cidr.anyContains(from, balancer.getAddress());
    }
}
