package dev.turnpike.daemon.dtls;

import dev.turnpike.daemon.stream.StreamLimits;
import java.net.InetAddress;
import java.util.HashMap;

/**
 * Who may begin a DTLS session, and how often a HelloVerifyRequest is answered: sessions within --max-connections
 * and --connections-per-ip, a handshake a token of --tls-handshake-rate, and HelloVerifyRequests (each an engine
 * made and dropped) ten times that rate. Loop thread only.
 */
final class DtlsAdmission {
    /** HelloVerifyRequests a second at most, per handshake allowed: they cost an engine's making each. */
    private static final int VERIFY_REQUESTS_PER_HANDSHAKE = 10;

    private StreamLimits limits;
    private final HashMap<InetAddress, Integer> perIp = new HashMap<>();
    private final TokenBucket handshakes;
    private final TokenBucket verifyRequests;

    DtlsAdmission(StreamLimits limits, long nowNs) {
        this.limits = limits;
        this.handshakes = new TokenBucket(limits.tlsHandshakesPerSecond(), nowNs);
        this.verifyRequests = new TokenBucket(VERIFY_REQUESTS_PER_HANDSHAKE * limits.tlsHandshakesPerSecond(), nowNs);
    }

    void reconfigure(StreamLimits next, long nowNs) {
        limits = next;
        handshakes.rate(next.tlsHandshakesPerSecond(), nowNs);
        verifyRequests.rate(VERIFY_REQUESTS_PER_HANDSHAKE * next.tlsHandshakesPerSecond(), nowNs);
    }

    /** Whether a stateless answer (a HelloVerifyRequest, an alert) may be sent now. */
    boolean mayAnswer(long nowNs) {
        return verifyRequests.take(nowNs);
    }

    /** Whether {@code ip} may begin a session now, {@code open} being open: if so, it is counted. */
    boolean admits(InetAddress ip, int open, long nowNs) {
        int max = limits.maxConnections();
        int perIpMax = limits.connectionsPerIp();
        if ((max > 0 && open >= max) || (perIpMax > 0 && perIp.getOrDefault(ip, 0) >= perIpMax)) {
            return false;
        }
        if (!handshakes.take(nowNs)) {
            return false;
        }
        perIp.merge(ip, 1, Integer::sum);
        return true;
    }

    /** A session of {@code ip} ended. */
    void ended(InetAddress ip) {
        perIp.computeIfPresent(ip, (k, n) -> n == 1 ? null : n - 1);
    }
}
