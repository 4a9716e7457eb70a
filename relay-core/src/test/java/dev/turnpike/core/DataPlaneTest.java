package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.PEER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Send and Data indications (RFC 8656 §11) and what the data plane drops. */
class DataPlaneTest {
    private final Harness h = new Harness();

    private RelayEndpoint allocate() {
        return h.endpoint(h.relayedAddress(h.allocate(CLIENT)).getPort());
    }

    private void permit(InetSocketAddress peer) {
        h.permit(CLIENT, peer);
    }

    @Test
    void aSendIndicationToAPermittedPeerIsRelayedFromTheRelayPort() {
        RelayEndpoint endpoint = allocate();
        permit(PEER);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND)
                        .peer(PEER)
                        .data(new byte[] {1, 2, 3})
                        .bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
        assertThat(h.out.relay()).isSameAs(endpoint);
        assertThat(h.out.destination()).isEqualTo(PEER);
        assertThat(h.forwarded()).containsExactly(1, 2, 3);
        assertThat(h.relay.counters().packetsClientToPeer()).isEqualTo(1);
        assertThat(h.relay.counters().bytesClientToPeer()).isEqualTo(3);
    }

    @Test
    void aSendIndicationWithoutPermissionIsDroppedAndCounted() {
        allocate();
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(PEER).data(new byte[] {1}).bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(1);
    }

    @Test
    void aSendIndicationToADeniedPeerIsDroppedAsDenied() {
        allocate();
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND)
                        .peer(new InetSocketAddress("127.0.0.1", 22))
                        .data(new byte[] {1})
                        .bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);
    }

    @Test
    void aSendIndicationWithoutAllocationIsDroppedAndOneWithoutDataIsMalformed() {
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(PEER).data(new byte[] {1}).bytes());
        assertThat(h.dropped(RelayCounters.Drop.NO_ALLOCATION)).isEqualTo(1);
        allocate();
        h.fromClient(CLIENT, Req.indication(StunMethod.SEND).peer(PEER).bytes());
        assertThat(h.dropped(RelayCounters.Drop.MALFORMED)).isEqualTo(1);
    }

    @Test
    void aPeersDatagramWithoutChannelArrivesAsADataIndicationWrittenInPlace() {
        RelayEndpoint endpoint = allocate();
        permit(PEER);
        h.fromPeer(endpoint, PEER, new byte[] {9, 8, 7, 6, 5});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.out.destination()).isEqualTo(CLIENT);
        assertThat(h.out.offset()).isEqualTo(Relay.HEADROOM - DataIndication.headerLength(4));
        byte[] bytes = h.forwarded();
        StunMessage data = new StunMessage();
        assertThat(data.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isEqualTo(DecodeStatus.OK);
        assertThat(data.method()).isEqualTo(StunMethod.DATA);
        assertThat(data.messageClass()).isEqualTo(StunMethod.CLASS_INDICATION);
        assertThat(data.xorAddress(data.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                .isEqualTo(PEER);
        assertThat(data.bytes(data.indexOf(StunAttribute.DATA))).containsExactly(9, 8, 7, 6, 5);
        assertThat(h.relay.counters().packetsPeerToClient()).isEqualTo(1);
    }

    @Test
    void anIpv6PeersDataIndicationCarriesItsIpv6Address() {
        Harness dual = new Harness(b -> b.relayIpv6(Harness.RELAY_IPV6, null));
        StunMessage allocated =
                dual.send(CLIENT, dual.signed(CLIENT, Req.allocate().family(2)));
        RelayEndpoint endpoint = dual.endpoint(dual.relayedAddress(allocated).getPort());
        dual.send(
                CLIENT,
                dual.signed(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(Harness.PEER6)));
        dual.fromPeer(endpoint, Harness.PEER6, new byte[] {1, 2, 3, 4, 5, 6, 7});
        byte[] bytes = dual.forwarded();
        StunMessage data = new StunMessage();
        assertThat(data.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isEqualTo(DecodeStatus.OK);
        assertThat(data.xorAddress(data.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                .isEqualTo(Harness.PEER6);
        assertThat(data.bytes(data.indexOf(StunAttribute.DATA))).containsExactly(1, 2, 3, 4, 5, 6, 7);
    }

    @Test
    void aDatagramOnADeletedAllocationsPortIsDroppedAsNoAllocation() {
        RelayEndpoint endpoint = allocate();
        permit(PEER);
        h.send(CLIENT, h.signed(CLIENT, Req.request(StunMethod.REFRESH).lifetime(0)));
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_ALLOCATION)).isEqualTo(1);
    }

    @Test
    void theRelaysOwnAddressMaySendOnlyFromRelayPortsThatLiveAllocationsHold() {
        RelayEndpoint endpoint = allocate();
        InetSocketAddress other = h.relayedAddress(h.allocate(Harness.CLIENT2));
        permit(other);
        h.fromPeer(endpoint, other, new byte[] {1});
        assertThat(h.out.forward()).as("another allocation's relayed address").isEqualTo(Outbox.Forward.TO_CLIENT);
        int unheld = other.getPort() == 50_500 ? 50_501 : 50_500;
        h.fromPeer(endpoint, new InetSocketAddress(Harness.RELAY_IPV4, unheld), new byte[] {1});
        assertThat(h.out.forward()).as("a relay port no allocation holds").isEqualTo(Outbox.Forward.NONE);
        h.fromPeer(endpoint, new InetSocketAddress(Harness.RELAY_IPV4, 3478), new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(2);
    }

    // The data plane remembers a peer's permission and channel between its datagrams (the same address object
    // comes back from the loop's address cache, as Harness.PEER does here). Each case below makes a datagram
    // flow first, so that the remembered lookup is the one tested, then changes what it remembered.

    @Test
    void aPeerFirstSeenWithoutAChannelArrivesAsChannelDataOnceOneIsBound() {
        RelayEndpoint endpoint = allocate();
        permit(PEER);
        h.fromPeer(endpoint, PEER, new byte[] {1, 2});
        assertThat(h.forwarded()[0] & 0xC0).as("a Data indication").isZero();
        assertThat(h.out.channelData()).as("said so, for a stream's padding").isFalse();

        assertThat(h.bindChannel(CLIENT, 0x4001, PEER)).isEqualTo(-1);
        h.fromPeer(endpoint, PEER, new byte[] {1, 2});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.forwarded()).containsExactly(0x40, 0x01, 0, 2, 1, 2);
        assertThat(h.out.channelData()).as("said so, for a stream's padding").isTrue();
    }

    @Test
    void aReloadThatDeniesAPeerAlreadyRelayingStopsBothDirectionsAtTheNextDatagram() {
        RelayEndpoint endpoint = allocate();
        assertThat(h.bindChannel(CLIENT, 0x4001, PEER)).isEqualTo(-1);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);

        h.reload(b -> b.policy(new PeerPolicy(
                List.of(), List.of(Cidr.parse("8.8.8.0/24")), Set.of(Harness.RELAY_IPV4), Set.of(Harness.LISTENER))));

        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
    }

    @Test
    void aPermissionThatLapsesStopsARelayingPeerAndOneCreatedAgainLetsItBackIn() {
        RelayEndpoint endpoint = allocate();
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.REFRESH).lifetime(3600)))
                        .errorCode())
                .isEqualTo(-1);
        assertThat(h.bindChannel(CLIENT, 0x4001, PEER)).isEqualTo(-1);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);

        h.advanceSeconds(301); // the permission (5 min) lapses and is swept; the channel (10 min) lives on
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(2);

        permit(PEER); // a new permission object for the same IP
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.forwarded()).startsWith(0x40, 0x01);
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
    }

    @Test
    void aSecondPeerOnTheSameAllocationIsJudgedByItsOwnPermission() {
        RelayEndpoint endpoint = allocate();
        permit(PEER);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        h.fromPeer(endpoint, Harness.PEER2, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        h.fromPeer(endpoint, new InetSocketAddress(PEER.getAddress(), PEER.getPort() + 1), new byte[] {1});
        assertThat(h.out.forward()).as("another port of a permitted IP").isEqualTo(Outbox.Forward.TO_CLIENT);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
    }
}
