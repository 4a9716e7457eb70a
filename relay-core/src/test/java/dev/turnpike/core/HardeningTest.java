package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static dev.turnpike.core.Harness.KEY;
import static dev.turnpike.core.Harness.REALM;
import static dev.turnpike.core.Harness.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** What an attacker tries against the core: altered nonces, loops through itself, forged sources, time. */
class HardeningTest {
    private final Harness h = new Harness();

    @Test
    void aNonceWithOneHexDigitInAnotherCaseIsNotTheNonceIssued() {
        String nonce = h.nonce(CLIENT);
        int at = nonce.length() - 1;
        while (!Character.isLetter(nonce.charAt(at)) || Character.isUpperCase(nonce.charAt(at))) {
            at--; // the last lower-case hex letter: the MAC or the issue time
        }
        String altered =
                nonce.substring(0, at) + nonce.substring(at, at + 1).toUpperCase(Locale.ROOT) + nonce.substring(at + 1);
        StunMessage response = h.send(CLIENT, Req.allocate().auth(USER, REALM, altered, KEY));
        assertThat(response.errorCode()).isEqualTo(438);
        assertThat(h.relay.allocationCount()).isZero();
        // the nonce as issued still works
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, REALM, nonce, KEY)).errorCode())
                .isEqualTo(-1);
    }

    @Test
    void aNonceFromAnotherClientAddressIsStale() {
        String nonce = h.nonce(CLIENT2);
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, REALM, nonce, KEY)).errorCode())
                .isEqualTo(438);
    }

    @Test
    void aChannelToTheAllocationsOwnRelayedAddressIs403() {
        InetSocketAddress relayed = h.relayedAddress(h.allocate(CLIENT));
        StunMessage response = h.send(
                CLIENT,
                h.signed(
                        CLIENT,
                        Req.request(StunMethod.CHANNEL_BIND).channel(0x4000).peer(relayed)));
        assertThat(response.errorCode()).isEqualTo(403);
        assertThat(h.relay.counters().peersRefused()).as("a refused request").isEqualTo(1);
        assertThat(h.relay.counters().droppedTotal()).as("no datagram dropped").isZero();
    }

    @Test
    void aSendIndicationToTheAllocationsOwnRelayedAddressIsDroppedButAnotherAllocationIsReachable() {
        InetSocketAddress own = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress other = h.relayedAddress(h.allocate(CLIENT2));
        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CREATE_PERMISSION)
                                                .peer(own)))
                        .errorCode())
                .as("a permission for the relay's own IP: other allocations live there")
                .isEqualTo(-1);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(own).data(new byte[] {1}).bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);

        h.permit(CLIENT2, own);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(other).data(new byte[] {1}).bytes());
        assertThat(h.out.forward())
                .as("delivered inside, to the other allocation's client")
                .isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.out.destination()).isEqualTo(CLIENT2);
    }

    @Test
    void aPortOfTheRelayRangeOnTheRelaysOwnAddressThatNoAllocationHoldsIsRefusedOnEveryPath() {
        InetSocketAddress own = h.relayedAddress(h.allocate(CLIENT));
        // a plain service listening on the relay's address, in --relay-ports, held by no allocation
        InetSocketAddress service = new InetSocketAddress(own.getAddress(), own.getPort() == 50_500 ? 50_501 : 50_500);
        h.permit(CLIENT, service); // the relay's own IP: other allocations live there
        assertThat(h.bindChannel(CLIENT, 0x4000, service)).as("ChannelBind").isEqualTo(403);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND)
                        .peer(service)
                        .data(new byte[] {1})
                        .bytes());
        assertThat(h.out.forward()).as("Send").isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);

        h.fromPeer(h.endpoint(own.getPort()), service, new byte[] {2});
        assertThat(h.out.forward()).as("from that service to the client").isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(2);
    }

    @Test
    void aChannelToAnotherAllocationStopsCarryingWhenThatAllocationEnds() {
        InetSocketAddress own = h.relayedAddress(h.allocate(CLIENT));
        InetSocketAddress other = h.relayedAddress(h.allocate(CLIENT2));
        h.permit(CLIENT2, own);
        assertThat(h.bindChannel(CLIENT, 0x4000, other)).isEqualTo(-1);
        byte[] channelData = {0x40, 0x00, 0x00, 0x01, 7, 0, 0, 0};
        h.fromClient(CLIENT, channelData);
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);

        h.send(CLIENT2, h.signed(CLIENT2, Req.request(StunMethod.REFRESH).lifetime(0)));
        h.fromClient(CLIENT, channelData);
        assertThat(h.out.forward())
                .as("the port is free again: whatever binds it next is no allocation")
                .isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);
    }

    @Test
    void noSoftwareAttributeIsSentUnlessConfigured() {
        StunMessage quiet = h.send(CLIENT, Req.request(StunMethod.BINDING));
        assertThat(quiet.indexOf(StunAttribute.SOFTWARE)).isNegative();
        assertThat(h.nonceChallenge(CLIENT).indexOf(StunAttribute.SOFTWARE)).isNegative();

        Harness named = new Harness(b -> b.software("relay-7"));
        assertThat(named.send(CLIENT, Req.request(StunMethod.BINDING)).string(StunAttribute.SOFTWARE))
                .isEqualTo("relay-7");
    }

    @Test
    void unauthenticatedRepliesToOneSourceStopAtTheBurstAndResumeAtTheRate() {
        Harness limited = new Harness(b -> b.challengeRate(10, 20));
        int answered = 0;
        for (int i = 0; i < 50; i++) {
            answered += limited.fromClient(CLIENT, Req.allocate().bytes()).size();
        }
        assertThat(answered).as("replies to a burst of 50").isEqualTo(20);
        assertThat(limited.dropped(RelayCounters.Drop.CHALLENGE_LIMITED)).isEqualTo(30);
        assertThat(limited.fromClient(CLIENT2, Req.allocate().bytes()))
                .as("another source has its own budget")
                .hasSize(1);

        limited.advanceSeconds(1);
        answered = 0;
        for (int i = 0; i < 50; i++) {
            answered += limited.fromClient(CLIENT, Req.allocate().bytes()).size();
        }
        assertThat(answered).as("replies after one second").isEqualTo(10);
    }

    @Test
    void badCredentialsAndStaleNoncesCountAgainstTheSameBudget() {
        Harness limited = new Harness(b -> b.challengeRate(1, 3));
        String nonce = limited.nonce(CLIENT); // 1
        byte[] wrong = LongTermKey.md5(USER, REALM, "guess");
        assertThat(limited.fromClient(
                        CLIENT, Req.allocate().auth(USER, REALM, nonce, wrong).bytes()))
                .hasSize(1); // 2
        assertThat(limited.fromClient(
                        CLIENT, Req.allocate().auth(USER, REALM, "stale", KEY).bytes()))
                .hasSize(1); // 3
        assertThat(limited.fromClient(
                        CLIENT, Req.allocate().auth(USER, REALM, nonce, wrong).bytes()))
                .isEmpty();
        assertThat(limited.fromClient(
                        CLIENT, Req.allocate().auth(USER, REALM, nonce, KEY).bytes()))
                .as("an authenticated request is never limited")
                .hasSize(1);
    }

    @Test
    void aWallClockJumpExpiresTimeLimitedCredentialsButNotNonces() {
        String username = (h.epochSeconds + 3_600) + ":carol";
        byte[] key = LongTermKey.md5(
                username, REALM, Credentials.restPassword(Harness.SECRET.getBytes(StandardCharsets.UTF_8), username));
        String nonce = h.nonce(CLIENT);
        assertThat(h.send(CLIENT, Req.allocate().auth(username, REALM, nonce, key))
                        .errorCode())
                .isEqualTo(-1);

        h.epochSeconds -= 86_400; // the wall clock steps back a day: monotonic time, and so the nonce, is unmoved
        assertThat(h.send(CLIENT, Req.request(StunMethod.REFRESH).auth(username, REALM, nonce, key))
                        .errorCode())
                .isEqualTo(-1);
        h.epochSeconds += 2 * 86_400; // and forward past the credential's expiry
        assertThat(h.send(CLIENT, Req.request(StunMethod.REFRESH).auth(username, REALM, nonce, key))
                        .errorCode())
                .isEqualTo(401);
    }
}
