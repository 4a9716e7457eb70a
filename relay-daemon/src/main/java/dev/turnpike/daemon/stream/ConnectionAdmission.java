package dev.turnpike.daemon.stream;

import dev.turnpike.core.TokenBucket;
import java.net.InetAddress;
import java.util.HashMap;

/**
 * Who may hold a TCP or TLS connection: at most --max-connections open, --connections-per-ip from one address
 * (behind a load balancer, the address its PROXY header names, known only once the header is read), TLS handshakes
 * within --tls-handshake-rate, and PROXY headers only from a balancer --proxy-protocol trusts. Loop thread only.
 */
final class ConnectionAdmission {
    private StreamLimits limits;
    private final ProxyProtocol proxyProtocol;
    private final HashMap<InetAddress, int[]> perIp = new HashMap<>();
    private TokenBucket handshakes;
    private int open;

    ConnectionAdmission(StreamLimits limits, ProxyProtocol proxyProtocol, long nowNs) {
        this.limits = limits;
        this.proxyProtocol = proxyProtocol;
        this.handshakes = bucket(limits, nowNs);
    }

    private static TokenBucket bucket(StreamLimits limits, long nowNs) {
        return limits.tlsHandshakesPerSecond() > 0
                ? new TokenBucket(limits.tlsHandshakesPerSecond(), limits.tlsHandshakesPerSecond(), nowNs)
                : null;
    }

    /** A reload: the limits from now on; a changed handshake rate starts with a full bucket. */
    void reconfigure(StreamLimits next, long nowNs) {
        if (next.tlsHandshakesPerSecond() != limits.tlsHandshakesPerSecond()) {
            handshakes = bucket(next, nowNs);
        }
        limits = next;
    }

    /**
     * Whether a connection from {@code peer} on {@code listener} is refused as it arrives. Behind a balancer the
     * client's IP is known only from the header: its limit is checked then ({@link #overPerIpLimit}).
     */
    boolean refuses(StreamListener listener, InetAddress peer, long nowNs) {
        return (limits.maxConnections() > 0 && open >= limits.maxConnections())
                || (listener.proxied ? !proxyProtocol.trusts(peer) : overPerIpLimit(peer))
                || (listener.tls && handshakes != null && !handshakes.take(1, nowNs));
    }

    boolean overPerIpLimit(InetAddress ip) {
        int[] fromIp = perIp.get(ip);
        return limits.connectionsPerIp() > 0 && fromIp != null && fromIp[0] >= limits.connectionsPerIp();
    }

    /** A connection taken: one more open (counted per IP once its client is known: {@link #countPerIp}). */
    int opened() {
        return ++open;
    }

    /** {@code c}'s client counts toward its IP's limit from now on. */
    void countPerIp(StreamConnection c) {
        perIp.computeIfAbsent(c.client.getAddress(), a -> new int[1])[0]++;
        c.countedPerIp = true;
    }

    /** {@code c} has closed; answers how many stay open. */
    int closed(StreamConnection c) {
        int[] fromIp = c.countedPerIp ? perIp.get(c.client.getAddress()) : null;
        if (fromIp != null && --fromIp[0] <= 0) {
            perIp.remove(c.client.getAddress());
        }
        return --open;
    }

    int open() {
        return open;
    }
}
