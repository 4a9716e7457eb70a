package dev.turnpike.daemon.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** turnpike probe's URL: RFC 7065's turn: and turns: URIs, names as well as addresses, default ports. */
class TurnUriTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "turn:127.0.0.1:3478, 127.0.0.1, 3478, UDP",
        "turn:[::1]:3479?transport=udp, ::1, 3479, UDP",
        "turn:relay.example.org, relay.example.org, 3478, UDP",
        "turn:relay.example.org:3478, relay.example.org, 3478, UDP",
        "turn:127.0.0.1:3478?transport=tcp, 127.0.0.1, 3478, TCP",
        "TURN:relay.example.org?transport=TCP, relay.example.org, 3478, TCP",
        "turns:relay.example.org, relay.example.org, 5349, TLS",
        "turns:[::1]:443?transport=tcp, ::1, 443, TLS",
    })
    void aTurnUriGivesHostPortAndTransport(String uri, String host, int port, TurnUri.Transport transport) {
        assertThat(TurnUri.parse(uri)).isEqualTo(new TurnUri(host, port, transport));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "",
                "turn:",
                "stun:127.0.0.1",
                "http://relay.example.org",
                "turn:relay.example.org:0",
                "turn:relay.example.org:70000",
                "turn:relay.example.org:x",
                "turn:[::1",
                "turn:user@relay.example.org",
                "turn:127.0.0.1?transport=sctp",
            })
    void anythingElseIsOneLineNamingWhatWasExpected(String uri) {
        assertThatThrownBy(() -> TurnUri.parse(uri))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected");
    }

    @org.junit.jupiter.api.Test
    void turnsOverUdpIsDtlsWhichIsNotProbedYet() {
        assertThatThrownBy(() -> TurnUri.parse("turns:127.0.0.1?transport=udp"))
                .hasMessageContaining("DTLS, which is not probed yet");
    }
}
