package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class AddressCacheTest {
    private final AddressCache cache = new AddressCache(16);

    @Test
    void anIpv4AddressAndPortComeBackAsTheSameObjectEachTime() {
        InetSocketAddress first = cache.ipv4(0xC0000201, 3478);
        assertThat(first).isEqualTo(new InetSocketAddress("192.0.2.1", 3478));
        assertThat(cache.ipv4(0xC0000201, 3478)).isSameAs(first);
        assertThat(cache.ipv4(0xC0000201, 3479)).isEqualTo(new InetSocketAddress("192.0.2.1", 3479));
    }

    @Test
    void ipv6AddressesKeepTheirPortAndMappedOnesBecomeIpv4() {
        InetSocketAddress v6 = cache.ipv6(0x20010db800000000L, 1L, 5000);
        assertThat(v6).isEqualTo(new InetSocketAddress("2001:db8::1", 5000));
        assertThat(cache.ipv6(0x20010db800000000L, 1L, 5000)).isSameAs(v6);
        assertThat(cache.ipv6(0x20010db800000000L, 1L, 5001).getPort()).isEqualTo(5001);
        assertThat(cache.ipv6(0L, 0x0000FFFF7F000001L, 80)).isEqualTo(new InetSocketAddress("127.0.0.1", 80));
    }

    @Test
    void collisionsReplaceButNeverConfuseAddresses() {
        for (int i = 0; i < 1000; i++) {
            assertThat(cache.ipv4(0x0A000000 + i, 1000 + i))
                    .isEqualTo(new InetSocketAddress("10.0." + (i >> 8) + "." + (i & 0xFF), 1000 + i));
        }
    }

    @Test
    void twoAddressesOfOneSetStayCachedTogether() {
        // among 17 addresses in 16 slots some two share a slot (a direct-mapped table then evicts one for the
        // other at every turn); in 8 sets of two, any two stay, each the same object however they alternate
        for (int i = 0; i < 17; i++) {
            for (int j = i + 1; j < 17; j++) {
                AddressCache pair = new AddressCache(16);
                InetSocketAddress a = pair.ipv4(0x0A000000 + i, 4000);
                InetSocketAddress b = pair.ipv4(0x0A000000 + j, 4000);
                for (int round = 0; round < 3; round++) {
                    assertThat(pair.ipv4(0x0A000000 + i, 4000)).isSameAs(a);
                    assertThat(pair.ipv4(0x0A000000 + j, 4000)).isSameAs(b);
                }
            }
        }
    }

    @Test
    void aHundredClientsInTheLoopsTableAllocateNothingOnceSeen() {
        AddressCache table = new AddressCache(1 << 14); // as the loop sizes it
        InetSocketAddress[] seen = new InetSocketAddress[100];
        for (int i = 0; i < 100; i++) {
            seen[i] = table.ipv4(0x7F640000 + i, 40_000 + i); // 127.100.0.i, as the load generator's clients
        }
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 100; i++) {
                assertThat(table.ipv4(0x7F640000 + i, 40_000 + i)).isSameAs(seen[i]);
            }
        }
    }
}
