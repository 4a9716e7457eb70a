package dev.turnpike.daemon.stream;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What the TLS listener answers to each ALPN offer, with and without a web site behind the port. */
class AlpnTest {
    private static final List<String> HTTP1_ONLY = List.of("http/1.1");
    private static final List<String> BOTH = List.of("h2", "http/1.1");

    @Test
    void stunTurnIsChosenWheneverItIsOfferedWhateverElseIs() {
        assertThat(Alpn.choose(List.of("stun.turn"), List.of())).isEqualTo("stun.turn");
        assertThat(Alpn.choose(List.of("h2", "http/1.1", "stun.turn"), BOTH)).isEqualTo("stun.turn");
    }

    @Test
    void withoutABackendNoHttpProtocolIsAnsweredAndTheHandshakeGoesOn() {
        assertThat(Alpn.choose(List.of("h2", "http/1.1"), List.of())).isEmpty();
        assertThat(Alpn.choose(List.of(), List.of())).isEmpty();
    }

    @Test
    void h2IsAnsweredOnlyWhenTheBackendHasAPortForIt() {
        assertThat(Alpn.choose(List.of("h2", "http/1.1"), HTTP1_ONLY)).isEqualTo("http/1.1");
        assertThat(Alpn.choose(List.of("h2"), HTTP1_ONLY)).isEmpty();
        assertThat(Alpn.choose(List.of("http/1.1", "h2"), BOTH)).isEqualTo("h2"); // the server's preference
    }

    @Test
    void aClientOfferingNothingOrUnknownProtocolsGetsNoAnswer() {
        assertThat(Alpn.choose(List.of(), BOTH)).isEmpty();
        assertThat(Alpn.choose(List.of("spdy/3", "acme-tls/1"), BOTH)).isEmpty();
    }

    @Test
    void theBackendsProtocolsFollowWhetherItHasAnH2Port() throws Exception {
        java.net.InetSocketAddress web = new java.net.InetSocketAddress("127.0.0.1", 8080);
        java.net.InetSocketAddress h2 = new java.net.InetSocketAddress("127.0.0.1", 8081);
        assertThat(new HttpsBackend(web, null, false, 1).protocols()).isEqualTo(HTTP1_ONLY);
        assertThat(new HttpsBackend(web, h2, false, 1).protocols()).isEqualTo(BOTH);
        assertThat(new HttpsBackend(web, h2, false, 1).addressFor("h2")).isEqualTo(h2);
        assertThat(new HttpsBackend(web, null, false, 1).addressFor("h2")).isEqualTo(web);
        assertThat(new HttpsBackend(web, h2, false, 1).addressFor("")).isEqualTo(web);
        assertThat(new HttpsBackend(web, h2, false, 1).addressFor(null)).isEqualTo(web);
    }
}
