package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * Two clients of the same relay behind a 1:1 NAT (issue 22): they learn each other's relayed addresses in their
 * public form (--public-address, here in the benchmarking range 198.18.0.0/15 that nothing holds), which the host
 * itself cannot reach. A datagram to such an address is delivered inside, to the allocation holding the port,
 * with that allocation's permissions applied as if it came from the sender's public relayed address; in another
 * worker it goes through the host to the bound address and is mapped back there. Never toward the public one.
 */
class SameRelayTest {
    private static final InetAddress PUBLIC = Harness.ip("198.18.0.1");

    private static Harness behindNat() {
        return new Harness(b -> b.relayIpv4(Harness.RELAY_IPV4, PUBLIC));
    }

    private static byte[] channelData(int channel, byte... payload) {
        ByteBuffer b = ByteBuffer.allocate(4 + payload.length);
        b.putShort((short) channel).putShort((short) payload.length).put(payload);
        return b.array();
    }

    private static StunMessage stun(byte[] bytes) {
        StunMessage message = new StunMessage();
        assertThat(message.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isEqualTo(DecodeStatus.OK);
        return message;
    }

    @Test
    void behindANatAnotherAllocationsPublicAddressIsDeliveredInsideWithItsPermissionsBothWays() {
        Harness h = behindNat();
        InetSocketAddress alice = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress bob = h.relayedAddress(h.allocate(CLIENT2));
        assertThat(alice.getAddress()).isEqualTo(PUBLIC);
        assertThat(h.bindChannel(CLIENT, 0x4000, bob))
                .as("a channel to bob's public address")
                .isEqualTo(-1);

        h.fromClient(CLIENT, channelData(0x4000, (byte) 7, (byte) 8, (byte) 9));
        assertThat(h.out.forward())
                .as("bob has no permission for alice yet: as if from outside")
                .isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(1);

        h.permit(CLIENT2, alice);
        h.fromClient(CLIENT, channelData(0x4000, (byte) 7, (byte) 8, (byte) 9));
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.out.destination()).isEqualTo(CLIENT2);
        StunMessage data = stun(h.forwarded());
        assertThat(data.method()).isEqualTo(StunMethod.DATA);
        assertThat(data.xorAddress(data.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                .as("from alice's relayed address as clients know it")
                .isEqualTo(alice);
        int value = data.valueOffset(data.indexOf(StunAttribute.DATA));
        assertThat(new byte[] {
                    data.buffer().get(value),
                    data.buffer().get(value + 1),
                    data.buffer().get(value + 2)
                })
                .containsExactly(7, 8, 9);

        assertThat(h.bindChannel(CLIENT2, 0x4001, alice)).isEqualTo(-1);
        h.fromClient(CLIENT2, channelData(0x4001, (byte) 1, (byte) 2));
        assertThat(h.out.destination()).isEqualTo(CLIENT);
        assertThat(h.forwarded())
                .as("alice gets it on her channel to bob")
                .containsExactly(0x40, 0x00, 0x00, 0x02, 1, 2);

        h.fromClient(
                CLIENT2,
                Req.indication(StunMethod.SEND).peer(alice).data(new byte[] {3}).bytes());
        assertThat(h.out.destination()).as("a Send indication too").isEqualTo(CLIENT);
        assertThat(h.forwarded()).containsExactly(0x40, 0x00, 0x00, 0x01, 3);

        assertThat(h.relay.counters().sameRelayInside()).isEqualTo(3);
        assertThat(h.relay.counters().sameRelayThroughHost()).isZero();
        assertThat(h.relay.counters().packetsPeerToClient()).isEqualTo(3);
    }

    @Test
    void anEmptyPayloadAndTheLargestAStreamCarriesAreDeliveredInsideWholeAndAMalformedOneIsDropped() {
        Harness h = behindNat();
        InetSocketAddress alice = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress bob = h.relayedAddress(h.allocate(CLIENT2));
        h.permit(CLIENT2, alice);
        assertThat(h.bindChannel(CLIENT, 0x4000, bob)).isEqualTo(-1);
        assertThat(h.bindChannel(CLIENT2, 0x4001, alice)).isEqualTo(-1);
        for (int size : new int[] {0, 1, 65_535}) {
            byte[] payload = new byte[size];
            java.util.Arrays.fill(payload, (byte) 0x5A);
            h.fromClient(CLIENT, channelData(0x4000, payload));
            assertThat(h.out.forward()).as("%d bytes", size).isEqualTo(Outbox.Forward.TO_CLIENT);
            byte[] got = h.forwarded();
            assertThat(got)
                    .as("%d bytes, as ChannelData on bob's channel", size)
                    .hasSize(4 + size);
            assertThat(ByteBuffer.wrap(got).getShort(0)).isEqualTo((short) 0x4001);
            assertThat(java.util.Arrays.copyOfRange(got, 4, got.length)).isEqualTo(payload);
        }
        // a ChannelData whose length runs past the datagram: dropped as malformed, nothing delivered
        byte[] bad = channelData(0x4000, (byte) 1, (byte) 2);
        bad[3] = 40;
        h.fromClient(CLIENT, bad);
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.MALFORMED)).isEqualTo(1);
        assertThat(h.relay.counters().sameRelayInside()).isEqualTo(3);
    }

    @Test
    void anAllocationIsNeverItsOwnPeerInEitherForm() {
        Harness h = behindNat();
        InetSocketAddress alice = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress bound = new InetSocketAddress(Harness.RELAY_IPV4, alice.getPort());
        assertThat(h.bindChannel(CLIENT, 0x4000, alice)).isEqualTo(403);
        assertThat(h.bindChannel(CLIENT, 0x4001, bound)).isEqualTo(403);
        h.permit(CLIENT, alice);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(alice).data(new byte[] {1}).bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);
    }

    @Test
    void aPortOfThePublicAddressThatNoAllocationHoldsIsRefused() {
        Harness h = behindNat();
        InetSocketAddress alice = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress unheld = new InetSocketAddress(PUBLIC, alice.getPort() == 50_500 ? 50_501 : 50_500);
        h.permit(CLIENT, unheld);
        assertThat(h.bindChannel(CLIENT, 0x4000, unheld)).isEqualTo(403);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND)
                        .peer(unheld)
                        .data(new byte[] {1})
                        .bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);
    }

    @Test
    void anAllocationOfAnotherWorkerIsReachedAtItsBoundAddressAndItsWorkerMapsTheSourceBack() {
        LiveRelayPorts live = LiveRelayPorts.shared();
        Harness.FakeSockets sockets = new Harness.FakeSockets();
        Harness first = new Harness(
                b -> b.relayIpv4(Harness.RELAY_IPV4, PUBLIC).relayPortShare(0, 2),
                AllocationQuotas.shared(),
                Reservations.shared(),
                sockets,
                live);
        Harness second = new Harness(
                b -> b.relayIpv4(Harness.RELAY_IPV4, PUBLIC).relayPortShare(1, 2),
                AllocationQuotas.shared(),
                Reservations.shared(),
                sockets,
                live);
        InetSocketAddress alice = first.relayedAddress(first.allocate(CLIENT));
        InetSocketAddress bob = second.relayedAddress(second.allocate(CLIENT2));
        assertThat(first.bindChannel(CLIENT, 0x4000, bob)).isEqualTo(-1);

        first.fromClient(CLIENT, channelData(0x4000, (byte) 5));
        assertThat(first.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
        assertThat(first.out.relay().advertised()).isEqualTo(alice);
        InetSocketAddress sentTo = first.out.destination();
        assertThat(sentTo)
                .as("bob's bound address, never the public one")
                .isEqualTo(new InetSocketAddress(Harness.RELAY_IPV4, bob.getPort()));
        assertThat(first.relay.counters().sameRelayThroughHost()).isEqualTo(1);

        // the host delivers it to bob's socket, from alice's bound address
        InetSocketAddress fromAlice = new InetSocketAddress(Harness.RELAY_IPV4, alice.getPort());
        second.fromPeer(second.endpoint(bob.getPort()), fromAlice, new byte[] {5});
        assertThat(second.out.forward()).as("bob has no permission for alice").isEqualTo(Outbox.Forward.NONE);
        second.permit(CLIENT2, alice);
        second.fromPeer(second.endpoint(bob.getPort()), fromAlice, new byte[] {5});
        assertThat(second.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        StunMessage data = stun(second.forwarded());
        assertThat(data.xorAddress(data.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                .as("mapped back to alice's public relayed address")
                .isEqualTo(alice);

        // alice's allocation ends: her bound address on that port is nobody's now
        first.send(CLIENT, first.signed(CLIENT, Req.request(StunMethod.REFRESH).lifetime(0)));
        second.fromPeer(second.endpoint(bob.getPort()), fromAlice, new byte[] {5});
        assertThat(second.out.forward()).isEqualTo(Outbox.Forward.NONE);
    }

    @Test
    void aReloadKeepsPermissionsForOtherAllocationsWhoseAddressesThePolicyDenies() {
        Harness h = behindNat();
        InetSocketAddress alice = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress bob = h.relayedAddress(h.allocate(CLIENT2));
        h.permit(CLIENT2, alice);
        assertThat(h.bindChannel(CLIENT, 0x4000, bob)).isEqualTo(-1);
        h.reload(b -> b.relayIpv4(Harness.RELAY_IPV4, PUBLIC));
        h.fromClient(CLIENT, channelData(0x4000, (byte) 1));
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.out.destination()).isEqualTo(CLIENT2);
    }
}
