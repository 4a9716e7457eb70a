package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static dev.turnpike.core.Harness.KEY;
import static dev.turnpike.core.Harness.PEER;
import static dev.turnpike.core.Harness.RELAY_IPV4;
import static dev.turnpike.core.Harness.RELAY_IPV6;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 8656 §7.2 Allocate, rule by rule. */
class AllocateTest {
    private final Harness h = new Harness();
    private final MessageIntegrity integrity = new MessageIntegrity();

    @Test
    void anAuthenticatedAllocateOpensARelayPortAndAnswersWithTheRelayedAndMappedAddresses() {
        StunMessage response = h.allocate(CLIENT);
        assertThat(response.method()).isEqualTo(StunMethod.ALLOCATE);
        assertThat(response.messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
        InetSocketAddress relayed = h.relayedAddress(response);
        assertThat(relayed.getAddress()).isEqualTo(RELAY_IPV4);
        assertThat(relayed.getPort()).isBetween(50000, 50999);
        assertThat(response.xorAddress(response.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                .isEqualTo(CLIENT);
        assertThat(response.u32Value(StunAttribute.LIFETIME, -1)).isEqualTo(600);
        assertThat(integrity.verifySha1(response, KEY)).isTrue();
        assertThat(h.sockets.opened)
                .singleElement()
                .satisfies(e -> assertThat(e.local()).isEqualTo(relayed));
        assertThat(h.relay.allocationCount()).isEqualTo(1);
    }

    @Test
    void aMissingRequestedTransportIs400() {
        StunMessage response = h.send(CLIENT, h.signed(CLIENT, Req.request(StunMethod.ALLOCATE)));
        assertThat(response.errorCode()).isEqualTo(400);
        assertThat(integrity.verifySha1(response, KEY)).as("signed").isTrue();
    }

    @Test
    void aTransportOtherThanUdpOrTcpIs442AndTcpOverDatagramsIs400() {
        StunMessage response =
                h.send(CLIENT, h.signed(CLIENT, Req.request(StunMethod.ALLOCATE).transport(132)));
        assertThat(response.errorCode()).isEqualTo(442);
        // RFC 6062 §5.1: TCP relaying is asked for over a TCP or TLS connection; over UDP, 400
        StunMessage tcp =
                h.send(CLIENT, h.signed(CLIENT, Req.request(StunMethod.ALLOCATE).transport(6)));
        assertThat(tcp.errorCode()).isEqualTo(400);
    }

    @Test
    void aSecondAllocateOnTheSameFiveTupleIs437() {
        h.allocate(CLIENT);
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.allocate())).errorCode()).isEqualTo(437);
        assertThat(h.sockets.opened).hasSize(1);
    }

    @Test
    void aRetransmittedAllocateGetsTheSameResponseAgain() {
        Req request = h.signed(CLIENT, Req.allocate());
        byte[] first =
                ((Command.SendToClient) h.fromClient(CLIENT, request.bytes()).get(0)).bytes();
        byte[] again =
                ((Command.SendToClient) h.fromClient(CLIENT, request.bytes()).get(0)).bytes();
        assertThat(again).isEqualTo(first);
        assertThat(h.sockets.opened).hasSize(1);
    }

    @Test
    void aLateRetransmissionAfterTheTransactionTimeoutIs437() {
        Req request = h.signed(CLIENT, Req.allocate());
        h.fromClient(CLIENT, request.bytes());
        h.advanceSeconds(46);
        StunMessage late = h.send(CLIENT, request);
        assertThat(late.errorCode()).isEqualTo(437);
    }

    @Test
    void anEmptyEvenPortIs400NotAReservation() {
        StunMessage response = h.send(
                CLIENT, h.signed(CLIENT, Req.allocate().with(w -> w.addBytes(StunAttribute.EVEN_PORT, new byte[0]))));
        assertThat(response.errorCode()).isEqualTo(400);
        assertThat(h.sockets.opened).as("no port opened, none held").isEmpty();
    }

    @Test
    void lifetimeIsTheDefaultAtLeastAndTheMaximumAtMost() {
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.allocate().lifetime(30))).u32Value(StunAttribute.LIFETIME, -1))
                .isEqualTo(600);
        assertThat(h.send(CLIENT2, h.signed(CLIENT2, Req.allocate().lifetime(100_000)))
                        .u32Value(StunAttribute.LIFETIME, -1))
                .isEqualTo(3600);
        Harness capped = new Harness(b -> b.maxLifetimeSeconds(1200));
        assertThat(capped.send(CLIENT, capped.signed(CLIENT, Req.allocate().lifetime(100_000)))
                        .u32Value(StunAttribute.LIFETIME, -1))
                .isEqualTo(1200);
    }

    @Test
    void anIpv6RelayAddressIsGivenWhenAskedAndConfigured() {
        Harness dual = new Harness(b -> b.relayIpv6(RELAY_IPV6, null));
        StunMessage response =
                dual.send(CLIENT, dual.signed(CLIENT, Req.allocate().family(2)));
        assertThat(dual.relayedAddress(response).getAddress()).isEqualTo(RELAY_IPV6);
    }

    @Test
    void aFamilyWithoutARelayAddressIs440AndAnUnknownFamilyToo() {
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.allocate().family(2))).errorCode())
                .isEqualTo(440);
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.allocate().family(3))).errorCode())
                .isEqualTo(440);
        assertThat(h.sockets.opened).isEmpty();
    }

    @Test
    void additionalAddressFamilyGivesADualStackAllocation() {
        Harness dual = new Harness(b -> b.relayIpv6(RELAY_IPV6, null));
        StunMessage response = dual.send(
                CLIENT,
                dual.signed(
                        CLIENT,
                        Req.allocate().with(w -> w.addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2))));
        int first = response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS);
        int second = response.indexOf(StunAttribute.XOR_RELAYED_ADDRESS, first + 1);
        assertThat(response.xorAddress(first).getAddress()).isEqualTo(RELAY_IPV4);
        assertThat(response.xorAddress(second).getAddress()).isEqualTo(RELAY_IPV6);
        assertThat(dual.sockets.opened).hasSize(2);
    }

    @Test
    void additionalAddressFamilyWithoutIpv6GivesIpv4AndAnAddressErrorCode440() {
        StunMessage response = h.send(
                CLIENT,
                h.signed(
                        CLIENT,
                        Req.allocate().with(w -> w.addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2))));
        assertThat(response.errorCode()).isEqualTo(-1);
        int error = response.indexOf(StunAttribute.ADDRESS_ERROR_CODE);
        assertThat(error).isPositive();
        int at = response.valueOffset(error);
        assertThat(response.buffer().get(at)).isEqualTo((byte) 2);
        assertThat(response.buffer().get(at + 2) * 100 + response.buffer().get(at + 3))
                .isEqualTo(440);
    }

    @Test
    void bothFamilyAttributesTogetherAre400() {
        StunMessage response = h.send(
                CLIENT,
                h.signed(
                        CLIENT,
                        Req.allocate()
                                .family(1)
                                .with(w -> w.addByteAndReserved(StunAttribute.ADDITIONAL_ADDRESS_FAMILY, 2))));
        assertThat(response.errorCode()).isEqualTo(400);
    }

    private StunMessage allocateReservingTheNextPort(InetSocketAddress client) {
        StunMessage response = h.send(
                client,
                h.signed(client, Req.allocate().with(w -> w.addByteAndReserved(StunAttribute.EVEN_PORT, 0x80))));
        assertThat(response.errorCode()).as("allocate error").isEqualTo(-1);
        return response;
    }

    private StunMessage allocateWithToken(InetSocketAddress client, byte[] token) {
        return h.send(
                client, h.signed(client, Req.allocate().with(w -> w.addBytes(StunAttribute.RESERVATION_TOKEN, token))));
    }

    @Test
    void evenPortGivesAnEvenPortAndTheReservationBitAReservedNeighbour() {
        StunMessage response = allocateReservingTheNextPort(CLIENT);
        int port = h.relayedAddress(response).getPort();
        assertThat(port % 2).isZero();
        int token = response.indexOf(StunAttribute.RESERVATION_TOKEN);
        assertThat(token).isPositive();
        StunMessage second = allocateWithToken(CLIENT2, response.bytes(token));
        assertThat(h.relayedAddress(second).getPort()).isEqualTo(port + 1);
    }

    @Test
    void theReservedNeighbourIsBoundAtOnceSoNoOtherProcessCanTakeItBeforeTheClaim() {
        int port = h.relayedAddress(allocateReservingTheNextPort(CLIENT)).getPort();
        assertThat(h.sockets.opened).extracting(RelayEndpoint::port).containsExactly(port, port + 1);
    }

    @Test
    void theClaimAdoptsTheHeldSocketAndOpensNoOther() {
        StunMessage response = allocateReservingTheNextPort(CLIENT);
        int port = h.relayedAddress(response).getPort();
        StunMessage second =
                allocateWithToken(CLIENT2, response.bytes(response.indexOf(StunAttribute.RESERVATION_TOKEN)));
        assertThat(second.errorCode()).isEqualTo(-1);
        assertThat(h.sockets.opened).hasSize(2);
        assertThat(h.sockets.adopted)
                .singleElement()
                .satisfies(e -> assertThat(e.port()).isEqualTo(port + 1));
        assertThat(h.closed).isEmpty();
    }

    @Test
    void aDatagramToAReservedPortBeforeItsClaimIsDroppedAsForNoAllocation() {
        int port = h.relayedAddress(allocateReservingTheNextPort(CLIENT)).getPort();
        h.fromPeer(h.endpoint(port + 1), PEER, new byte[] {1, 2, 3});
        assertThat(h.relay.counters().dropped(RelayCounters.Drop.NO_ALLOCATION)).isEqualTo(1);
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
    }

    @Test
    void whenTheNeighbourIsTakenByAnotherProcessAnotherPairIsTried() {
        // The harness's random generator is seeded: a twin harness shows which pair would be chosen first.
        Harness twin = new Harness();
        StunMessage first = twin.send(
                CLIENT,
                twin.signed(CLIENT, Req.allocate().with(w -> w.addByteAndReserved(StunAttribute.EVEN_PORT, 0x80))));
        int firstChoice = twin.relayedAddress(first).getPort();

        h.sockets.taken.add(firstChoice + 1);
        int port = h.relayedAddress(allocateReservingTheNextPort(CLIENT)).getPort();
        assertThat(port).isNotEqualTo(firstChoice);
        assertThat(port % 2).isZero();
        assertThat(h.closed).extracting(RelayEndpoint::port).containsExactly(firstChoice);
        assertThat(h.sockets.opened).extracting(RelayEndpoint::port).containsExactly(firstChoice, port, port + 1);
    }

    @Test
    void aReservationTokenWithEvenPortIs400AndAnUnknownOneIs508() {
        byte[] token = {1, 2, 3, 4, 5, 6, 7, 8};
        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.allocate()
                                                .with(w -> w.addBytes(StunAttribute.RESERVATION_TOKEN, token))
                                                .with(w -> w.addByteAndReserved(StunAttribute.EVEN_PORT, 0))))
                        .errorCode())
                .isEqualTo(400);
        assertThat(allocateWithToken(CLIENT, token).errorCode()).isEqualTo(508);
        assertThat(h.relay.counters().allocationsRefusedNoPort()).isEqualTo(1);
    }

    @Test
    void aReservationExpiresAfterThirtySecondsAndItsSocketIsClosed() {
        StunMessage response = allocateReservingTheNextPort(CLIENT);
        int port = h.relayedAddress(response).getPort();
        byte[] token = response.bytes(response.indexOf(StunAttribute.RESERVATION_TOKEN));
        h.advanceSeconds(29);
        assertThat(h.closed).isEmpty();
        h.advanceSeconds(2);
        assertThat(h.closed).singleElement().satisfies(e -> assertThat(e.port()).isEqualTo(port + 1));
        assertThat(allocateWithToken(CLIENT2, token).errorCode()).isEqualTo(508);
    }

    @Test
    void aTokenCanBeClaimedOnlyOnce() {
        StunMessage response = allocateReservingTheNextPort(CLIENT);
        byte[] token = response.bytes(response.indexOf(StunAttribute.RESERVATION_TOKEN));
        assertThat(allocateWithToken(CLIENT2, token).errorCode()).isEqualTo(-1);
        InetSocketAddress third = new InetSocketAddress(CLIENT2.getAddress(), 40001);
        assertThat(allocateWithToken(third, token).errorCode()).isEqualTo(508);
    }

    @Test
    void whenTheLoopCannotHandOverTheHeldSocketTheClaimIs508AndThePortIsGivenUp() {
        StunMessage response = allocateReservingTheNextPort(CLIENT);
        int port = h.relayedAddress(response).getPort();
        h.sockets.adoptFails = true;
        byte[] token = response.bytes(response.indexOf(StunAttribute.RESERVATION_TOKEN));
        assertThat(allocateWithToken(CLIENT2, token).errorCode()).isEqualTo(508);
        assertThat(h.closed).singleElement().satisfies(e -> assertThat(e.port()).isEqualTo(port + 1));
    }

    @Test
    void dontFragmentIsHonouredWhereSupportedAndOtherwiseAnUnknownAttribute() {
        StunMessage ok =
                h.send(CLIENT, h.signed(CLIENT, Req.allocate().with(w -> w.addEmpty(StunAttribute.DONT_FRAGMENT))));
        assertThat(ok.errorCode()).isEqualTo(-1);
        assertThat(h.sockets.opened.get(0).dontFragment()).isTrue();

        h.sockets.dontFragment = false;
        StunMessage refused =
                h.send(CLIENT2, h.signed(CLIENT2, Req.allocate().with(w -> w.addEmpty(StunAttribute.DONT_FRAGMENT))));
        assertThat(refused.errorCode()).isEqualTo(420);
        int unknown = refused.indexOf(StunAttribute.UNKNOWN_ATTRIBUTES);
        assertThat(refused.buffer().getShort(refused.valueOffset(unknown)))
                .isEqualTo((short) StunAttribute.DONT_FRAGMENT);
    }

    @Test
    void whenNoRelayPortIsFreeTheAnswerIs508() {
        Harness tiny = new Harness(b -> b.relayPorts(50000, 50000));
        tiny.allocate(CLIENT);
        assertThat(tiny.send(CLIENT2, tiny.signed(CLIENT2, Req.allocate())).errorCode())
                .isEqualTo(508);
    }

    @Test
    void aPortTakenByAnotherProcessIsSkipped() {
        Harness two = new Harness(b -> b.relayPorts(50000, 50001));
        two.sockets.taken.add(50000);
        assertThat(two.relayedAddress(two.allocate(CLIENT)).getPort()).isEqualTo(50001);
    }

    @Test
    void thePublicAddressIsAdvertisedWhileTheRelayAddressIsBound() throws Exception {
        InetAddress advertised = InetAddress.getByName("203.0.114.9");
        Harness natted = new Harness(b -> b.relayIpv4(RELAY_IPV4, advertised));
        InetSocketAddress relayed = natted.relayedAddress(natted.allocate(CLIENT));
        assertThat(relayed.getAddress()).isEqualTo(advertised);
        assertThat(natted.sockets.opened.get(0).local().getAddress()).isEqualTo(RELAY_IPV4);
    }

    @Test
    void anUnknownComprehensionRequiredAttributeIs420AndSigned() {
        StunMessage response = h.send(CLIENT, h.signed(CLIENT, Req.allocate().with(w -> w.addU32(0x7F42, 0))));
        assertThat(response.errorCode()).isEqualTo(420);
        assertThat(integrity.verifySha1(response, KEY)).isTrue();
    }

    @Test
    void attributesAfterMessageIntegrityAreIgnored() {
        StunMessage response = h.send(
                CLIENT,
                h.signed(CLIENT, Req.allocate())
                        .afterIntegrity(w -> w.addU32(0x7F42, 0))
                        .afterIntegrity(w -> w.addU32(StunAttribute.LIFETIME, 3000)));
        assertThat(response.errorCode()).isEqualTo(-1);
        assertThat(response.u32Value(StunAttribute.LIFETIME, -1)).isEqualTo(600);
    }

    @Test
    void aRequestWithFingerprintGetsASignedResponseWithFingerprint() {
        StunMessage response = h.send(CLIENT, h.signed(CLIENT, Req.allocate()).fingerprint());
        assertThat(integrity.verifyFingerprint(response)).isTrue();
        assertThat(integrity.verifySha1(response, KEY)).isTrue();
    }

    @Test
    void anUnknownMethodIs400() {
        assertThat(h.send(CLIENT, Req.request(0x0FF)).errorCode()).isEqualTo(400);
        assertThat(List.of(h.relay.counters().errorResponses())).containsExactly(1L);
    }
}
