package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ProbeCommandTest {
    @Test
    void aTurnUrlGivesTheServersAddressAndAnythingElseIsOneLineNamingWhatWasExpected() {
        assertThat(ProbeCommand.server("turn:127.0.0.1:3478")).isEqualTo(new InetSocketAddress("127.0.0.1", 3478));
        assertThat(ProbeCommand.server("turn:[::1]:3479?transport=udp")).isEqualTo(new InetSocketAddress("::1", 3479));
        assertThatThrownBy(() -> ProbeCommand.server("turns:127.0.0.1:5349"))
                .isInstanceOf(StartupException.class)
                .hasMessageContaining("expected: turn:HOST:PORT");
        assertThatThrownBy(() -> ProbeCommand.server("turn:127.0.0.1:3478?transport=tcp"))
                .hasMessageContaining("expected: UDP");
        assertThatThrownBy(() -> ProbeCommand.server("turn:")).isInstanceOf(StartupException.class);
    }
}
