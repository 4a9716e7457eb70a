package dev.turnpike.daemon.stream;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * The web server that shares the TLS listeners' port (--https-backend): TLS ends at the relay, and a connection
 * that does not start as TURN is passed in plain text to {@code http1}, or to {@code h2} when the client chose
 * HTTP/2 by ALPN, with a PROXY v2 header first when {@code proxyProtocol}.
 *
 * <p>Why two addresses: behind TLS, HTTP/2 is chosen by ALPN in the handshake, which the relay answers on the
 * backend's behalf; the backend then sees plain text and must know which protocol is coming, since a plain port
 * speaks HTTP/1.1, or HTTP/2 with prior knowledge (RFC 9113 §3.3), and not both on most servers (Debian 12's nginx
 * 1.22: {@code listen ... http2} takes HTTP/2 only). So the relay offers {@code h2} only when there is a port for
 * it, and sends each connection to the port that speaks what was chosen. A server that tells the two apart by
 * the preface (nginx 1.25.1 and later with {@code http2 on}) may be given as both.
 *
 * @param h2 where HTTP/2 connections go, or null: then h2 is not offered, and clients use HTTP/1.1
 */
public record HttpsBackend(InetSocketAddress http1, InetSocketAddress h2, boolean proxyProtocol, long idleTimeoutNs) {
    /** HTTP/1.1's ALPN name. */
    public static final String HTTP_1_1 = "http/1.1";
    /** HTTP/2's ALPN name. */
    public static final String H2 = "h2";

    /** The ALPN protocols offered for the web beside stun.turn, preferred first. */
    List<String> protocols() {
        return h2 == null ? List.of(HTTP_1_1) : List.of(H2, HTTP_1_1);
    }

    /** Where a connection goes that chose {@code alpn} ("" or null: none). */
    InetSocketAddress addressFor(String alpn) {
        return H2.equals(alpn) && h2 != null ? h2 : http1;
    }
}
