package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static dev.turnpike.core.Harness.PEER;
import static dev.turnpike.core.Harness.PEER2;
import static dev.turnpike.core.Harness.PEER6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Refresh (RFC 8656 §7.3), CreatePermission (§9) and ChannelBind (§12), and how each expires. */
class LifecycleTest {
    private final Harness h = new Harness();

    private StunMessage request(InetSocketAddress client, Req request) {
        return h.send(client, h.signed(client, request));
    }

    private RelayEndpoint allocate() {
        return h.endpoint(h.relayedAddress(h.allocate(CLIENT)).getPort());
    }

    @Test
    void aRefreshWithoutAnAllocationIs437() {
        assertThat(request(CLIENT, Req.request(StunMethod.REFRESH)).errorCode()).isEqualTo(437);
    }

    @Test
    void anAllocationExpiresAfterItsLifetimeAndItsRelayPortIsClosed() {
        RelayEndpoint endpoint = allocate();
        h.advanceSeconds(599);
        assertThat(h.closed).isEmpty();
        h.advanceSeconds(2);
        assertThat(h.closed).containsExactly(endpoint);
        assertThat(h.relay.allocationCount()).isZero();
    }

    @Test
    void anAllocationsLifeIsReportedCreatedRefreshedAndDeletedWithWhatItMoved() {
        RelayEndpoint endpoint = allocate();
        Command.AllocationEvent created = h.events.get(0);
        assertThat(created.kind()).isEqualTo(Command.AllocationEvent.Kind.CREATED);
        assertThat(created.user()).isEqualTo(Harness.USER);
        assertThat(created.client()).isEqualTo(CLIENT);
        assertThat(created.relayedIpv4()).isEqualTo(endpoint.advertised());
        assertThat(created.lifetimeSeconds()).isEqualTo(600);

        request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(Harness.PEER));
        h.fromPeer(endpoint, Harness.PEER, new byte[] {1, 2, 3});
        h.advanceSeconds(5);
        request(CLIENT, Req.request(StunMethod.REFRESH).lifetime(1200));
        assertThat(h.events.get(1).kind()).isEqualTo(Command.AllocationEvent.Kind.REFRESHED);
        assertThat(h.events.get(1).lifetimeSeconds()).isEqualTo(1200);

        request(CLIENT, Req.request(StunMethod.REFRESH).lifetime(0));
        Command.AllocationEvent deleted = h.events.get(2);
        assertThat(deleted.kind()).isEqualTo(Command.AllocationEvent.Kind.DELETED);
        assertThat(deleted.ageSeconds()).isEqualTo(5);
        assertThat(deleted.packetsToClient()).isEqualTo(1);
        assertThat(deleted.bytesToClient()).isEqualTo(3);
        assertThat(deleted.packetsToPeers()).isZero();
    }

    @Test
    void theClosedConnectionOfAStreamClientEndsItsAllocationAndOnlyThat() {
        RelayEndpoint endpoint = allocate();
        h.out.clear();
        h.relay.onClientClosed(h.nowNs, 0, Harness.CLIENT2, h.out);
        assertThat(h.out.poll()).as("another client's close ends nothing").isNull();

        h.relay.onClientClosed(h.nowNs, 0, CLIENT, h.out);
        List<Command> commands = new java.util.ArrayList<>();
        for (Command c = h.out.poll(); c != null; c = h.out.poll()) {
            commands.add(c);
        }
        assertThat(commands).anySatisfy(c -> assertThat(c).isEqualTo(new Command.CloseRelay(endpoint)));
        assertThat(commands)
                .filteredOn(Command.AllocationEvent.class::isInstance)
                .extracting(c -> ((Command.AllocationEvent) c).kind())
                .containsExactly(Command.AllocationEvent.Kind.CLOSED);
        assertThat(h.relay.allocationCount()).isZero();
        assertThat(h.relay.counters().allocationsClosedWithConnection()).isEqualTo(1);
    }

    @Test
    void anAllocationLeftToLapseIsReportedExpired() {
        allocate();
        h.advanceSeconds(601);
        assertThat(h.events)
                .extracting(Command.AllocationEvent::kind)
                .containsExactly(Command.AllocationEvent.Kind.CREATED, Command.AllocationEvent.Kind.EXPIRED);
    }

    @Test
    void aRefreshAskingLessThanTheDefaultLifetimeGetsTheDefault() {
        RelayEndpoint endpoint = allocate();
        StunMessage refreshed = request(CLIENT, Req.request(StunMethod.REFRESH).lifetime(30));
        assertThat(refreshed.u32Value(StunAttribute.LIFETIME, -1))
                .as("RFC 8656 §7.3")
                .isEqualTo(600);
        h.advanceSeconds(599);
        assertThat(h.closed).isEmpty();
        h.advanceSeconds(2);
        assertThat(h.closed).containsExactly(endpoint);
    }

    @Test
    void aRefreshExtendsTheLifetimeUpToTheMaximum() {
        RelayEndpoint endpoint = allocate();
        StunMessage refreshed = request(CLIENT, Req.request(StunMethod.REFRESH).lifetime(100_000));
        assertThat(refreshed.u32Value(StunAttribute.LIFETIME, -1)).isEqualTo(3600);
        h.advanceSeconds(3599);
        assertThat(h.closed).isEmpty();
        h.advanceSeconds(2);
        assertThat(h.closed).containsExactly(endpoint);
    }

    @Test
    void aRefreshWithLifetimeZeroDeletesTheAllocationAndFreesItsPort() {
        Harness one = new Harness(b -> b.relayPorts(50000, 50000));
        one.allocate(CLIENT);
        StunMessage deleted = one.send(
                CLIENT, one.signed(CLIENT, Req.request(StunMethod.REFRESH).lifetime(0)));
        assertThat(deleted.u32Value(StunAttribute.LIFETIME, -1)).isZero();
        assertThat(one.closed).hasSize(1);
        assertThat(one.relayedAddress(one.allocate(CLIENT2)).getPort()).isEqualTo(50000);
    }

    @Test
    void aRefreshForAFamilyTheAllocationLacksIs443() {
        allocate();
        assertThat(request(CLIENT, Req.request(StunMethod.REFRESH).family(2)).errorCode())
                .isEqualTo(443);
    }

    @Test
    void createPermissionLetsAPeersDatagramsThroughForFiveMinutes() {
        RelayEndpoint endpoint = allocate();
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(1);

        assertThat(request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(PEER))
                        .errorCode())
                .isEqualTo(-1);
        // the permission is for the IP: any port of it may send
        h.fromPeer(endpoint, new InetSocketAddress(PEER.getAddress(), 9999), new byte[] {2});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);

        h.advanceSeconds(301);
        h.fromPeer(endpoint, PEER, new byte[] {3});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(2);
    }

    @Test
    void oneCreatePermissionMayNameSeveralPeers() {
        RelayEndpoint endpoint = allocate();
        request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(PEER).peer(PEER2));
        h.fromPeer(endpoint, PEER2, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
    }

    @Test
    void aDeniedPeerIs403AndNoPermissionIsInstalledForTheOthers() {
        RelayEndpoint endpoint = allocate();
        StunMessage response = request(
                CLIENT,
                Req.request(StunMethod.CREATE_PERMISSION).peer(PEER).peer(new InetSocketAddress("10.0.0.1", 80)));
        assertThat(response.errorCode()).isEqualTo(403);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
    }

    @Test
    void loopbackLinkLocalMetadataAndExtraDeniedRangesAre403() {
        allocate();
        for (String ip :
                new String[] {"127.0.0.1", "169.254.169.254", "192.168.1.1", "224.0.0.1", "9.9.9.9", "0.0.0.0"}) {
            assertThat(request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(new InetSocketAddress(ip, 80)))
                            .errorCode())
                    .as(ip)
                    .isEqualTo(403);
        }
    }

    @Test
    void createPermissionWithoutAPeerIs400AndAPeerOfAnotherFamilyIs443() {
        allocate();
        assertThat(request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION)).errorCode())
                .isEqualTo(400);
        assertThat(request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(PEER6))
                        .errorCode())
                .isEqualTo(443);
    }

    @Test
    void channelBindInstallsAPermissionAndCarriesChannelDataBothWays() {
        RelayEndpoint endpoint = allocate();
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4001)
                                        .peer(PEER))
                        .errorCode())
                .isEqualTo(-1);
        h.fromPeer(endpoint, PEER, new byte[] {7, 8, 9});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.forwarded()).containsExactly(0x40, 0x01, 0, 3, 7, 8, 9);

        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 2, 5, 6});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
        assertThat(h.out.destination()).isEqualTo(PEER);
        assertThat(h.out.relay()).isSameAs(endpoint);
        assertThat(h.forwarded()).containsExactly(5, 6);
    }

    @Test
    void channelDataPaddingIsToleratedOnReceipt() {
        allocate();
        request(CLIENT, Req.request(StunMethod.CHANNEL_BIND).channel(0x4001).peer(PEER));
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 5, 0, 0, 0});
        assertThat(h.forwarded()).containsExactly(5);
    }

    @Test
    void channelDataLongerThanItsDatagramIsMalformed() {
        allocate();
        request(CLIENT, Req.request(StunMethod.CHANNEL_BIND).channel(0x4001).peer(PEER));
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 9, 5});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.MALFORMED)).isEqualTo(1);
    }

    @Test
    void channelDataOnAnUnboundChannelOrWithoutAllocationIsDroppedAndCounted() {
        h.fromClient(CLIENT, new byte[] {0x40, 0x01, 0, 1, 5});
        assertThat(h.dropped(RelayCounters.Drop.NO_ALLOCATION)).isEqualTo(1);
        allocate();
        h.fromClient(CLIENT, new byte[] {0x40, 0x02, 0, 1, 5});
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(1);
    }

    @Test
    void channelNumbersOutsideTheRfc8656RangeAre400() {
        allocate();
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x3FFF)
                                        .peer(PEER))
                        .errorCode())
                .isEqualTo(400);
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x5000)
                                        .peer(PEER))
                        .errorCode())
                .isEqualTo(400);
        assertThat(request(CLIENT, Req.request(StunMethod.CHANNEL_BIND).peer(PEER))
                        .errorCode())
                .isEqualTo(400);
        assertThat(request(CLIENT, Req.request(StunMethod.CHANNEL_BIND).channel(0x4000))
                        .errorCode())
                .isEqualTo(400);
    }

    @Test
    void theRfc5766RangeIsAcceptedWhenAskedForLegacyClients() {
        Harness legacy = new Harness(b -> b.rfc5766ChannelNumbers(true));
        legacy.allocate(CLIENT);
        StunMessage response = legacy.send(
                CLIENT,
                legacy.signed(
                        CLIENT,
                        Req.request(StunMethod.CHANNEL_BIND).channel(0x7FFF).peer(PEER)));
        assertThat(response.errorCode()).isEqualTo(-1);
        legacy.fromClient(CLIENT, new byte[] {0x7F, (byte) 0xFF, 0, 1, 5});
        assertThat(legacy.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
    }

    @Test
    void aChannelStandsForOnePeerAndAPeerForOneChannel() {
        allocate();
        request(CLIENT, Req.request(StunMethod.CHANNEL_BIND).channel(0x4001).peer(PEER));
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4001)
                                        .peer(PEER2))
                        .errorCode())
                .isEqualTo(400);
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4002)
                                        .peer(PEER))
                        .errorCode())
                .isEqualTo(400);
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4001)
                                        .peer(PEER))
                        .errorCode())
                .as("refresh")
                .isEqualTo(-1);
    }

    @Test
    void aChannelExpiresAfterTenMinutesAndThePeerThenArrivesAsADataIndication() {
        RelayEndpoint endpoint = allocate();
        request(CLIENT, Req.request(StunMethod.REFRESH).lifetime(3600));
        request(CLIENT, Req.request(StunMethod.CHANNEL_BIND).channel(0x4001).peer(PEER));
        h.advanceSeconds(250);
        request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(PEER));
        h.advanceSeconds(250);
        request(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(PEER));
        h.advanceSeconds(101);
        h.fromPeer(endpoint, PEER, new byte[] {1, 2});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        StunMessage data = new StunMessage();
        byte[] bytes = h.forwarded();
        assertThat(data.wrap(java.nio.ByteBuffer.wrap(bytes), 0, bytes.length))
                .isEqualTo(dev.turnpike.core.stun.DecodeStatus.OK);
        assertThat(data.method()).isEqualTo(StunMethod.DATA);
        // the number is free again for another peer
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4001)
                                        .peer(PEER2))
                        .errorCode())
                .isEqualTo(-1);
    }

    @Test
    void bindingAChannelToTheRelaysListeningAddressIs403() {
        allocate();
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4001)
                                        .peer(Harness.LISTENER))
                        .errorCode())
                .isEqualTo(403);
    }

    @Test
    void anotherClientsRelayPortOnTheRelaysOwnAddressIsReachable() {
        InetSocketAddress other = h.relayedAddress(h.allocate(CLIENT2));
        allocate();
        assertThat(request(
                                CLIENT,
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(0x4001)
                                        .peer(other))
                        .errorCode())
                .isEqualTo(-1);
    }
}
