package dev.turnpike.daemon.stream;

import java.util.List;
import javax.net.ssl.SSLEngine;

/**
 * ALPN on the TLS listener (RFC 7301): the relay speaks {@code stun.turn} (RFC 7443) and answers it to a client
 * that offers it. A client that offers other protocols only (a browser offering h2) or none at all gets no ALPN
 * answer and the handshake goes on, as TURN over TLS did before ALPN: browsers set none on {@code turns:}.
 */
final class Alpn {
    /** RFC 7443's identifier for TURN (and STUN) over TLS. */
    static final String STUN_TURN = "stun.turn";

    private Alpn() {}

    /** Lets {@code engine}, a server's, answer ALPN as above. */
    static void offer(SSLEngine engine) {
        engine.setHandshakeApplicationProtocolSelector((e, offered) -> choose(offered));
    }

    /** The protocol chosen from what a client offered: stun.turn, or "" (no ALPN answer, the handshake goes on). */
    static String choose(List<String> offered) {
        return offered.contains(STUN_TURN) ? STUN_TURN : "";
    }
}
