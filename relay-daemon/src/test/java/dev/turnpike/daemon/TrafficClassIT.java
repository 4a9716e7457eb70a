package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.daemon.client.TurnClient;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DSCP and ECN across the packaged daemon (--dscp-preserve, on by default): a peer that reads each datagram's TOS
 * byte / Traffic Class ({@link TosProbe}) sees EF, AF41 and each ECN codepoint as the client sent them, by
 * ChannelData and by Send; the client sees the peer's marks on the way back, by ChannelData and by Data
 * indication; over IPv4 and IPv6. A client over TCP or TLS has its datagrams to peers leave with its connection's
 * DSCP, never its ECN bits (TCP's own). With --no-dscp-preserve everything arrives unmarked.
 */
class TrafficClassIT {
    private static final String REALM = "example.org";
    /** EF, AF41, CS1, then ECN alone: ECT(1), ECT(0), CE; EF with CE; and none. */
    private static final List<Integer> MARKS = List.of(0xB8, 0x88, 0x20, 0x01, 0x02, 0x03, 0xBB, 0x00);

    private static DaemonProcess relay(String... extra) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of(
                "--listen",
                "127.0.0.1:0,[::1]:0",
                "--allow-peer",
                "127.0.0.1/32,::1/128",
                "--relay-ports",
                Interop.relayPorts(100).flag(),
                "--realm",
                REALM,
                "--user",
                "alice:wonderland"));
        args.addAll(List.of(extra));
        return DaemonProcess.start(args.toArray(String[]::new));
    }

    @Test
    void eachMarkAndEcnCodepointCrossesTheRelayBothWaysOverIpv4AndIpv6() throws Throwable {
        try (DaemonProcess daemon = relay()) {
            assertThat(daemon.output()).contains("dscpPreserve=on");
            for (InetSocketAddress server : daemon.listening("udp")) {
                boolean ipv6 = server.getAddress() instanceof Inet6Address;
                String family = "IPv" + (ipv6 ? 6 : 4);
                try (TurnClient alice = new TurnClient(server, "alice", "wonderland", REALM);
                        TosProbe peer = new TosProbe(
                                DatagramChannel.open().bind(new InetSocketAddress(server.getAddress(), 0)), ipv6)) {
                    InetSocketAddress peerAddress = (InetSocketAddress) peer.channel.getLocalAddress();
                    InetSocketAddress relayed = relayed(alice.allocateDual(), ipv6);
                    TosProbe client = new TosProbe(alice.channel(), ipv6);
                    alice.createPermission(peerAddress);
                    for (int mark : MARKS) {
                        client.sendWith(mark);
                        alice.sendIndication(peerAddress, new byte[] {1, (byte) mark});
                        TosProbe.Received sent = peer.receive(5_000);
                        assertThat(sent).as("%s Send with 0x%02X", family, mark).isNotNull();
                        assertThat(sent.tos())
                                .as("%s Send with 0x%02X", family, mark)
                                .isEqualTo(mark);

                        peer.sendWith(mark);
                        peer.channel.send(ByteBuffer.wrap(new byte[] {2, (byte) mark}), relayed);
                        TosProbe.Received data = client.receive(5_000);
                        assertThat(data)
                                .as("%s Data indication with 0x%02X", family, mark)
                                .isNotNull();
                        assertThat(data.tos())
                                .as("%s Data indication with 0x%02X", family, mark)
                                .isEqualTo(mark);
                    }
                    alice.channelBind(0x4000, peerAddress);
                    for (int mark : MARKS) {
                        client.sendWith(mark);
                        alice.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {3, (byte) mark}));
                        TosProbe.Received sent = peer.receive(5_000);
                        assertThat(sent)
                                .as("%s ChannelData with 0x%02X", family, mark)
                                .isNotNull();
                        assertThat(sent.payload()).containsExactly(3, (byte) mark);
                        assertThat(sent.tos())
                                .as("%s ChannelData with 0x%02X", family, mark)
                                .isEqualTo(mark);

                        peer.sendWith(mark);
                        peer.channel.send(ByteBuffer.wrap(new byte[] {4, (byte) mark}), relayed);
                        TosProbe.Received back = client.receive(5_000);
                        assertThat(back)
                                .as("%s ChannelData back with 0x%02X", family, mark)
                                .isNotNull();
                        assertThat(back.payload()).hasSize(6).endsWith(4, (byte) mark);
                        assertThat(back.tos())
                                .as("%s ChannelData back with 0x%02X", family, mark)
                                .isEqualTo(mark);
                    }
                    client.sendWith(0);
                    alice.tearDown();
                }
            }
        }
    }

    @TempDir
    Path dir;

    @Test
    void aTcpOrTlsClientsDatagramsToPeersLeaveWithItsConnectionsDscpButNeverItsEcnBits() throws Throwable {
        TestCertificate certificate = TestCertificate.make(dir);
        try (DaemonProcess daemon = relay(
                "--listen-tcp",
                "127.0.0.1:0,[::1]:0",
                "--listen-tls",
                "127.0.0.1:0",
                "--tls-cert",
                certificate.cert().toString(),
                "--tls-key",
                certificate.key().toString())) {
            List<InetSocketAddress> servers = new java.util.ArrayList<>(daemon.listening("tcp"));
            InetSocketAddress tlsServer = daemon.listening("tls").getFirst();
            servers.add(tlsServer);
            for (InetSocketAddress server : servers) {
                boolean ipv6 = server.getAddress() instanceof Inet6Address;
                boolean tls = server.equals(tlsServer);
                String over = "IPv" + (ipv6 ? 6 : 4) + (tls ? " over TLS" : " over TCP");
                for (int mark : List.of(0xB8, 0x88, 0x20, 0xBB, 0x03, 0x00)) {
                    // marked from the SYN on: over IPv4 the kernel keeps only the SYN's byte
                    try (TurnClient alice = tls
                                    ? TurnClient.overTls(server, "alice", "wonderland", REALM, 5_000, mark)
                                    : TurnClient.overTcp(server, "alice", "wonderland", REALM, 5_000, mark);
                            TosProbe peer = new TosProbe(
                                    DatagramChannel.open().bind(new InetSocketAddress(server.getAddress(), 0)), ipv6)) {
                        InetSocketAddress peerAddress = (InetSocketAddress) peer.channel.getLocalAddress();
                        relayed(alice.allocateDual(), ipv6);
                        alice.channelBind(0x4000, peerAddress);
                        alice.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {7, (byte) mark}));
                        TosProbe.Received sent = peer.receive(5_000);
                        assertThat(sent).as("%s with 0x%02X", over, mark).isNotNull();
                        assertThat(sent.tos())
                                .as("%s with 0x%02X: its DSCP, no ECN", over, mark)
                                .isEqualTo(mark & 0xFC);
                        if (ipv6) {
                            // over IPv6 the kernel reports each segment's: a change on the way is followed
                            alice.trafficClass(0x88);
                            alice.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {8}));
                            assertThat(peer.receive(5_000).tos())
                                    .as("remarked AF41")
                                    .isEqualTo(0x88);
                        }
                        alice.tearDown();
                    }
                }
            }
        }
    }

    @Test
    void withDscpPreserveOffEverythingLeavesUnmarked() throws Throwable {
        try (DaemonProcess daemon = relay("--no-dscp-preserve")) {
            assertThat(daemon.output()).contains("dscpPreserve=off");
            InetSocketAddress server = daemon.listening("udp").getFirst();
            try (TurnClient alice = new TurnClient(server, "alice", "wonderland", REALM);
                    TosProbe peer = new TosProbe(
                            DatagramChannel.open().bind(new InetSocketAddress(server.getAddress(), 0)), false)) {
                InetSocketAddress peerAddress = (InetSocketAddress) peer.channel.getLocalAddress();
                InetSocketAddress relayed = alice.allocate();
                TosProbe client = new TosProbe(alice.channel(), false);
                alice.channelBind(0x4000, peerAddress);
                client.sendWith(0xB8);
                alice.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {5}));
                assertThat(peer.receive(5_000).tos()).isZero();
                peer.sendWith(0xBB);
                peer.channel.send(ByteBuffer.wrap(new byte[] {6}), relayed);
                assertThat(client.receive(5_000).tos()).isZero();
                alice.tearDown();
            }
        }
    }

    private static InetSocketAddress relayed(StunMessage response, boolean ipv6) {
        for (int i = response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS);
                i >= 0;
                i = response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS, i + 1)) {
            InetSocketAddress address = response.xorAddress(i);
            if ((address.getAddress() instanceof Inet6Address) == ipv6) {
                return address;
            }
        }
        throw new AssertionError("no IPv" + (ipv6 ? 6 : 4) + " relayed address in " + response);
    }
}
