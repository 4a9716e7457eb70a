package dev.turnpike.daemon.stream;

import java.util.List;
import javax.net.ssl.SSLEngine;

/**
 * ALPN on the TLS listener (RFC 7301): the relay speaks {@code stun.turn} (RFC 7443) and answers it to a client
 * that offers it, first of all. With a web site on the same port (--https-backend), it also answers the first of
 * the backend's protocols, in the backend's order of preference, that the client offers: the relay cannot ask the
 * backend (TLS ends here, and the backend speaks plain text), so the operator says what its port speaks. A client
 * that offers nothing the relay speaks (a browser's WebRTC stack offers no ALPN on {@code turns:}) gets no ALPN
 * answer and the handshake goes on; the first bytes after it then tell TURN from the web.
 */
final class Alpn {
    /** RFC 7443's identifier for TURN (and STUN) over TLS. */
    static final String STUN_TURN = "stun.turn";

    private Alpn() {}

    /** Lets {@code engine}, a server's, answer ALPN as above, {@code web} being the backend's protocols (or none). */
    static void offer(SSLEngine engine, List<String> web) {
        engine.setHandshakeApplicationProtocolSelector((e, offered) -> choose(offered, web));
    }

    /** The protocol chosen from what a client offered: stun.turn, else one of {@code web}, or "" (no ALPN answer). */
    static String choose(List<String> offered, List<String> web) {
        if (offered.contains(STUN_TURN)) {
            return STUN_TURN;
        }
        for (String protocol : web) {
            if (offered.contains(protocol)) {
                return protocol;
            }
        }
        return "";
    }
}
