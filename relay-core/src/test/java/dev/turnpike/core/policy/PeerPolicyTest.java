package dev.turnpike.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PeerPolicyTest {
    private static final InetAddress OWN = ip("203.0.114.1");
    private final PeerPolicy policy =
            new PeerPolicy(List.of(), List.of(), Set.of(OWN), Set.of(new InetSocketAddress(OWN, 3478)));

    static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    /** An IPv6 address kept as IPv6 even when Java would turn it into IPv4 (mapped addresses). */
    static InetAddress ip6(String text) {
        try {
            byte[] raw = new byte[16];
            InetAddress parsed = InetAddress.getByName(text);
            byte[] b = parsed.getAddress();
            if (b.length == 4) {
                raw[10] = (byte) 0xFF;
                raw[11] = (byte) 0xFF;
                System.arraycopy(b, 0, raw, 12, 4);
            } else {
                raw = b;
            }
            return Inet6Address.getByAddress(null, raw, -1);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "0.0.0.0",
                "10.1.2.3",
                "100.64.0.1",
                "127.0.0.1",
                "127.255.255.254",
                "169.254.169.254",
                "172.16.0.1",
                "172.31.255.255",
                "192.0.0.8",
                "192.0.2.1",
                "192.168.1.1",
                "198.18.0.1",
                "198.51.100.7",
                "203.0.113.9",
                "224.0.0.1",
                "239.255.255.250",
                "240.0.0.1",
                "255.255.255.255",
                "::",
                "::1",
                "fc00::1",
                "fd00:ec2::254",
                "fe80::1",
                "fec0::1",
                "ff02::1",
                "2001:db8::1",
                "100::1",
                "2001::1",
                "3fff::1",
                "5f00::1",
                "::127.0.0.1",
                "64:ff9b::a9fe:a9fe",
                "2002:c0a8:0101::1",
                "64:ff9b:1:7f00:0:100::"
            })
    void specialPurposeAddressesAreRefusedByDefault(String address) {
        assertThat(policy.judge(ip(address))).as(address).isEqualTo(PeerPolicy.Verdict.DENIED);
    }

    @Test
    void ipv4MappedAddressesAreJudgedByTheIpv4Inside() {
        assertThat(policy.judge(ip6("::ffff:127.0.0.1"))).isEqualTo(PeerPolicy.Verdict.DENIED);
        assertThat(policy.judge(ip6("::ffff:10.0.0.1"))).isEqualTo(PeerPolicy.Verdict.DENIED);
        assertThat(policy.judge(ip6("::ffff:8.8.8.8"))).isEqualTo(PeerPolicy.Verdict.ALLOWED);
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "8.8.8.8",
                "1.1.1.1",
                "2606:4700::1111",
                "64:ff9b::808:808",
                "2002:808:808::1",
                "172.32.0.1",
                "100.128.0.1"
            })
    void publicAddressesAreAllowed(String address) {
        assertThat(policy.judge(ip(address))).as(address).isEqualTo(PeerPolicy.Verdict.ALLOWED);
    }

    @Test
    void theHostItselfIsRefusedOnEveryPortEvenAtAPublicAddress() {
        // another allocation's relayed address is delivered inside before the policy is asked (SameRelay): the
        // policy has no exception for the host's own addresses
        for (int port : new int[] {50000, 50001, 3478, 22, 51820}) {
            assertThat(policy.permits(new InetSocketAddress(OWN, port)))
                    .as("port " + port)
                    .isFalse();
        }
        assertThat(policy.judge(OWN)).isEqualTo(PeerPolicy.Verdict.DENIED);
        assertThat(policy.judge(ip("203.0.114.2"))).as("its neighbour").isEqualTo(PeerPolicy.Verdict.ALLOWED);
    }

    @Test
    void theHostsOwnIpv4AddressInAnyIpv6SpellingIsTheHostToo() {
        for (String spelling : new String[] {"::ffff:203.0.114.1", "64:ff9b::cb00:7201", "2002:cb00:7201::1"}) {
            assertThat(policy.judge(ip(spelling))).as(spelling).isEqualTo(PeerPolicy.Verdict.DENIED);
        }
    }

    @Test
    void everySpellingOfTheRelaysOwnLoopbackAddressIsDenied() {
        InetAddress loopback = ip("127.0.0.1");
        PeerPolicy onLoopback =
                new PeerPolicy(List.of(), List.of(), Set.of(loopback), Set.of(new InetSocketAddress(loopback, 3478)));
        assertThat(onLoopback.judge(loopback)).isEqualTo(PeerPolicy.Verdict.DENIED);
        assertThat(onLoopback.judge(ip("::ffff:127.0.0.1")))
                .as("the same address")
                .isEqualTo(PeerPolicy.Verdict.DENIED);
        for (String spelling :
                new String[] {"::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:1::", "2001:0:4136:e378:8000:63bf:80ff:fffe"
                }) {
            assertThat(onLoopback.judge(ip(spelling))).as(spelling).isEqualTo(PeerPolicy.Verdict.DENIED);
        }
    }

    @Test
    void anExplicitAllowWinsButNeverOpensTheListeningAddress() {
        InetAddress loopback = ip("127.0.0.1");
        PeerPolicy open = new PeerPolicy(
                List.of(Cidr.parse("127.0.0.0/8")),
                List.of(),
                Set.of(loopback),
                Set.of(new InetSocketAddress(loopback, 3478)));
        assertThat(open.judge(loopback)).isEqualTo(PeerPolicy.Verdict.ALLOWED);
        assertThat(open.judge(ip6("::ffff:127.0.0.2"))).isEqualTo(PeerPolicy.Verdict.ALLOWED);
        assertThat(open.permits(new InetSocketAddress(loopback, 40000))).isTrue();
        assertThat(open.permits(new InetSocketAddress(loopback, 3478))).isFalse();
    }

    @Test
    void anExtraDenyRefusesAPublicRangeSuchAsACloudMetadataAddress() {
        PeerPolicy strict = new PeerPolicy(List.of(), List.of(Cidr.parse("168.63.129.16/32")), Set.of(), Set.of());
        assertThat(strict.judge(ip("168.63.129.16"))).isEqualTo(PeerPolicy.Verdict.DENIED);
        assertThat(strict.judge(ip("168.63.129.17"))).isEqualTo(PeerPolicy.Verdict.ALLOWED);
    }

    @Test
    void prefixesMatchOnBitsNotBytes() {
        Cidr cgnat = Cidr.parse("100.64.0.0/10");
        assertThat(cgnat.contains(ip("100.127.255.255").getAddress())).isTrue();
        assertThat(cgnat.contains(ip("100.128.0.0").getAddress())).isFalse();
        assertThat(Cidr.parse("fc00::/7").contains(ip("fdff::1").getAddress())).isTrue();
        assertThat(Cidr.parse("fc00::/7").contains(ip("fe00::1").getAddress())).isFalse();
    }

    @Test
    void badPrefixesSayWhatWasExpected() {
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("0..32");
        assertThatThrownBy(() -> Cidr.parse("example.com/8")).hasMessageContaining("numeric");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("expected");
    }
}
