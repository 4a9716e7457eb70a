package dev.turnpike.daemon.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class AddressesTest {
    @Test
    void ipv4AndBracketedIpv6HostPortsParse() {
        assertThat(Addresses.parseHostPort("127.0.0.1:3478")).isEqualTo(new InetSocketAddress("127.0.0.1", 3478));
        assertThat(Addresses.parseHostPort("[::1]:3479")).isEqualTo(new InetSocketAddress("::1", 3479));
    }

    @Test
    void hostNamesBareIpv6AndBadPortsAreRefusedSayingWhatWasExpected() {
        assertThatThrownBy(() -> Addresses.parseHostPort("localhost:3478")).hasMessageContaining("numeric");
        assertThatThrownBy(() -> Addresses.parseHostPort("::1:3478")).hasMessageContaining("expected");
        assertThatThrownBy(() -> Addresses.parseHostPort("127.0.0.1:70000")).hasMessageContaining("0..65535");
        assertThatThrownBy(() -> Addresses.parseHostPort("127.0.0.1")).hasMessageContaining("ADDR:PORT");
    }

    @Test
    void ipv6IsPrintedInItsShortestCanonicalForm() {
        assertThat(Addresses.format(new InetSocketAddress("::1", 3478))).isEqualTo("[::1]:3478");
        assertThat(Addresses.format(new InetSocketAddress("2001:db8:0:0:1:0:0:1", 1)))
                .isEqualTo("[2001:db8::1:0:0:1]:1");
        assertThat(Addresses.format(new InetSocketAddress("2001:db8:0:1:1:1:1:1", 1)))
                .isEqualTo("[2001:db8:0:1:1:1:1:1]:1");
        assertThat(Addresses.format(new InetSocketAddress("::", 1))).isEqualTo("[::]:1");
        assertThat(Addresses.format(new InetSocketAddress("fe80::", 1))).isEqualTo("[fe80::]:1");
        assertThat(Addresses.format(new InetSocketAddress("192.0.2.1", 80))).isEqualTo("192.0.2.1:80");
    }
}
