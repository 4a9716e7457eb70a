package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The listener table: one index each, the transport and PROXY setting of each, and the ports bound. */
class ListenersTest {
    private static InetSocketAddress at(String ip, int port) {
        return new InetSocketAddress(ip, port);
    }

    @Test
    void eachListenerHasOneIndexWithItsTransportAndOnlyStreamsNamedByProxyProtocolTakeAHeader() {
        InetSocketAddress balanced = at("10.0.0.5", 443);
        Listeners listeners = Listeners.of(
                List.of(at("127.0.0.1", 3478), at("::1", 3478)),
                List.of(at("127.0.0.1", 3478)),
                List.of(balanced, at("127.0.0.1", 5349)),
                Set.of(balanced, at("127.0.0.1", 3478)));
        assertThat(listeners.count()).isEqualTo(5);
        assertThat(listeners.all()).extracting(Listeners.Listener::index).containsExactly(0, 1, 2, 3, 4);
        assertThat(listeners.all())
                .extracting(Listeners.Listener::transport)
                .containsExactly(
                        Listeners.Kind.UDP,
                        Listeners.Kind.UDP,
                        Listeners.Kind.TCP,
                        Listeners.Kind.TLS,
                        Listeners.Kind.TLS);
        assertThat(listeners.all())
                .extracting(Listeners.Listener::proxied)
                .as("a UDP listener never takes a PROXY header, whatever its address")
                .containsExactly(false, false, true, true, false);
        assertThat(listeners.addresses(Listeners.Kind.TLS)).containsExactly(balanced, at("127.0.0.1", 5349));
    }

    @Test
    void theBoundTableKeepsIndicesTransportsAndProxySettingsWithThePortsResolved() {
        Listeners asked = Listeners.of(
                List.of(at("127.0.0.1", 0)), List.of(at("127.0.0.1", 0)), List.of(), Set.of(at("127.0.0.1", 0)));
        Listeners bound = asked.bound(List.of(at("127.0.0.1", 40001), at("127.0.0.1", 40002)));
        assertThat(bound.get(1)).isEqualTo(new Listeners.Listener(1, at("127.0.0.1", 40002), Listeners.Kind.TCP, true));
        assertThat(bound.addresses()).containsExactly(at("127.0.0.1", 40001), at("127.0.0.1", 40002));
        assertThatThrownBy(() -> asked.bound(List.of(at("127.0.0.1", 1))))
                .hasMessageContaining("1 bound addresses for 2 listeners");
    }
}
