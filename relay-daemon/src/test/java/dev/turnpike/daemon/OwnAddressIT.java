package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay's own address as a peer, with the default peer policy (issue 22's security finding): a plain UDP
 * service bound on the relay address at a port inside {@code --relay-ports}, held by no allocation, gets nothing by
 * ChannelData or Send, over IPv4 and IPv6, with one worker and with two; another allocation's relayed address on the
 * same relay is still reachable, which is what the own-address rule is for.
 */
class OwnAddressIT {
    private static final String REALM = "example.org";

    @ParameterizedTest(name = "with {0} worker(s)")
    @ValueSource(ints = {1, 2})
    void aServiceOnTheRelayAddressInTheRelayRangeGetsNothingButAnotherAllocationDoes(int workers) throws Exception {
        Interop.PortRange range = Interop.relayPorts(200);
        int servicePort = range.low() + 101; // odd: never the even port of an EVEN-PORT pair either
        try (DatagramChannel service4 = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", servicePort));
                DatagramChannel service6 = DatagramChannel.open().bind(new InetSocketAddress("::1", servicePort));
                DaemonProcess daemon = DaemonProcess.start(
                        "--listen",
                        "127.0.0.1:0,[::1]:0",
                        "--relay-ports",
                        range.flag(),
                        "--workers",
                        Integer.toString(workers),
                        "--realm",
                        REALM,
                        "--user",
                        "alice:wonderland,bob:builder")) {
            service4.configureBlocking(false);
            service6.configureBlocking(false);
            for (InetSocketAddress server : daemon.listening("udp")) {
                boolean ipv6 = server.getAddress() instanceof Inet6Address;
                InetSocketAddress service = new InetSocketAddress(server.getAddress(), servicePort);
                try (TurnClient alice = new TurnClient(server, "alice", "wonderland", REALM);
                        TurnClient bob = new TurnClient(server, "bob", "builder", REALM)) {
                    InetSocketAddress aliceRelayed = relayed(alice.allocateDual(), ipv6);
                    InetSocketAddress bobRelayed = relayed(bob.allocateDual(), ipv6);

                    alice.createPermission(service); // the relay's own IP: other allocations live there
                    StunMessage bind = alice.ask(
                            StunMethod.CHANNEL_BIND,
                            w -> w.addU32(StunAttribute.CHANNEL_NUMBER, 0x4000L << 16)
                                    .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, service));
                    assertThat(bind.errorCode()).as("ChannelBind to " + service).isEqualTo(403);
                    alice.sendIndication(service, new byte[] {1, 2, 3});
                    alice.sendChannelData(0x4000, ByteBuffer.wrap(new byte[] {4, 5, 6}));

                    // After those, the same client's datagrams to bob's relayed address arrive: the relay has
                    // handled everything before them, so whatever it relayed to the service is there by now.
                    bob.createPermission(aliceRelayed);
                    alice.channelBind(0x4001, bobRelayed);
                    alice.sendChannelData(0x4001, ByteBuffer.wrap(new byte[] {7, 8, 9}));
                    assertThat(bob.receive(5_000))
                            .as("bob, an allocation on the same relay, over IPv" + (ipv6 ? 6 : 4))
                            .isNotNull();
                    alice.sendIndication(bobRelayed, new byte[] {10});
                    assertThat(bob.receive(5_000)).as("a Send to bob").isNotNull();

                    assertThat(service4.receive(ByteBuffer.allocate(64)))
                            .as("the service on 127.0.0.1:" + servicePort)
                            .isNull();
                    assertThat(service6.receive(ByteBuffer.allocate(64)))
                            .as("the service on [::1]:" + servicePort)
                            .isNull();
                    alice.tearDown();
                    bob.tearDown();
                }
            }
            assertThat(daemon.terminate()).isZero();
            assertThat(daemon.output()).contains("droppedPEER_DENIED=2");
        }
    }

    /** The relayed address of {@code family} in a dual Allocate's success response. */
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
