package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static dev.turnpike.core.Harness.PEER;
import static dev.turnpike.core.Harness.REALM;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A reload ({@link Relay#reconfigure}): new credentials, policy and limits, and no allocation lost. */
class ReloadTest {
    private final Harness h = new Harness();

    private static Credentials users(Map<String, String> users) {
        return new Credentials(REALM, users, List.of());
    }

    private StunMessage allocateAs(InetSocketAddress client, String user, String password) {
        byte[] key = LongTermKey.md5(user, REALM, password);
        return h.send(client, Req.allocate().auth(user, REALM, h.nonce(client), key));
    }

    private void permit(InetSocketAddress peer) {
        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CREATE_PERMISSION)
                                                .peer(peer)))
                        .errorCode())
                .isEqualTo(-1);
    }

    private void sendToPeer(InetSocketAddress peer) {
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(peer).data(new byte[] {7}).bytes());
    }

    @Test
    void anAllocationMadeBeforeAReloadKeepsRelayingAndRefreshing() {
        StunMessage allocated = h.allocate(CLIENT);
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(allocated).getPort());
        h.permit(CLIENT, PEER);

        h.reload(b -> b.credentials(users(Map.of(Harness.USER, Harness.PASSWORD, "carol", "c4rol"))));

        sendToPeer(PEER);
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
        h.fromPeer(endpoint, PEER, new byte[] {1, 2});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.request(StunMethod.REFRESH)))
                        .errorCode())
                .isEqualTo(-1);
        assertThat(h.relay.allocationCount()).isEqualTo(1);
        assertThat(h.closed).isEmpty();
    }

    @Test
    void aUserAddedByAReloadCanAllocateAndAUserRemovedCannot() {
        assertThat(allocateAs(CLIENT, "bob", "builder").errorCode()).isEqualTo(-1);

        h.reload(b -> b.credentials(users(Map.of("carol", "c4rol"))));

        assertThat(allocateAs(CLIENT2, "carol", "c4rol").errorCode()).isEqualTo(-1);
        InetSocketAddress another = new InetSocketAddress(CLIENT2.getAddress(), 40001);
        assertThat(allocateAs(another, "bob", "builder").errorCode()).isEqualTo(401);
        assertThat(h.relay.counters().authFailures(RelayCounters.AuthFailure.BAD_CREDENTIALS))
                .isEqualTo(1);
    }

    @Test
    void aNonceIssuedBeforeAReloadIsStillAccepted() {
        String nonce = h.nonce(CLIENT);
        h.reload(b -> b.credentials(users(Map.of(Harness.USER, Harness.PASSWORD))));
        StunMessage response = h.send(CLIENT, Req.allocate().auth(Harness.USER, REALM, nonce, Harness.KEY));
        assertThat(response.errorCode()).isEqualTo(-1);
    }

    @Test
    void aReloadThatDeniesAPeersRangeClosesItForRunningAllocationsToo() {
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(h.allocate(CLIENT)).getPort());
        h.permit(CLIENT, PEER);

        h.reload(b -> b.policy(new PeerPolicy(
                List.of(), List.of(Cidr.parse("8.8.8.0/24")), Set.of(Harness.RELAY_IPV4), Set.of(Harness.LISTENER))));

        sendToPeer(PEER);
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.PEER_DENIED)).isEqualTo(1);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        StunMessage again = h.send(
                CLIENT,
                h.signed(CLIENT, Req.request(StunMethod.CREATE_PERMISSION).peer(PEER)));
        assertThat(again.errorCode()).isEqualTo(403);
    }

    @Test
    void aLowerMaxBpsAppliesToAllocationsThatAlreadyExist() {
        h.allocate(CLIENT);
        h.permit(CLIENT, PEER);
        h.reload(b -> b.bandwidth(8 * 1000, 0)); // 1,000 bytes a second; the bucket holds a datagram's worth

        byte[] big = new byte[60_000];
        for (int i = 0; i < 2; i++) {
            h.fromClient(
                    CLIENT, Req.indication(StunMethod.SEND).peer(PEER).data(big).bytes());
        }
        assertThat(h.dropped(RelayCounters.Drop.BANDWIDTH)).isEqualTo(1);
    }

    @Test
    void quotasFromAReloadApplyToTheNextAllocate() {
        h.allocate(CLIENT);
        h.reload(b -> b.quotas(1, 0, 0));
        assertThat(allocateAs(CLIENT2, "bob", "builder").errorCode()).isEqualTo(486);
    }

    @Test
    void aReloadTurnsTheSoftwareAttributeOnAndOff() {
        h.reload(b -> b.software("turnpike test"));
        assertThat(h.send(CLIENT, Req.request(StunMethod.BINDING)).string(StunAttribute.SOFTWARE))
                .isEqualTo("turnpike test");
        h.reload(b -> b.software(null));
        assertThat(h.send(CLIENT, Req.request(StunMethod.BINDING)).indexOf(StunAttribute.SOFTWARE))
                .isNegative();
    }

    @Test
    void aReloadThatChangesWhatTakesARestartIsRefusedAndChangesNothing() {
        h.allocate(CLIENT);
        assertThatThrownBy(() -> h.reload(b -> b.relayPorts(40000, 40999).credentials(users(Map.of()))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("relay ports");
        assertThat(allocateAs(CLIENT2, "bob", "builder").errorCode())
                .as("the old users still count")
                .isEqualTo(-1);
    }
}
