package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.PEER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A drain ({@link Relay#drain}): no new allocation, everything else as before. */
class DrainTest {
    private static final InetSocketAddress ALTERNATE = new InetSocketAddress(Harness.ip("203.0.113.9"), 3478);
    private static final InetSocketAddress ALTERNATE6 = new InetSocketAddress(Harness.ip("2001:db8::9"), 3478);
    private static final InetSocketAddress CLIENT6 = new InetSocketAddress(Harness.ip("2001:db8:1::7"), 40000);

    private final Harness h = new Harness();

    @Test
    void whileDrainingANewAllocateGets300NamingTheAlternateServerOfTheClientsFamily() {
        h.relay.drain(List.of(ALTERNATE6, ALTERNATE));

        StunMessage response = h.send(CLIENT, h.signed(CLIENT, Req.allocate()));

        assertThat(response.errorCode()).isEqualTo(300);
        int index = response.indexOf(StunAttribute.ALTERNATE_SERVER);
        assertThat(index).isNotNegative();
        assertThat(response.plainAddress(index)).isEqualTo(ALTERNATE);
        assertThat(response.indexOf(StunAttribute.MESSAGE_INTEGRITY))
                .as("signed, so a client can trust where it is sent")
                .isNotNegative();
        assertThat(h.relay.counters().allocationsRefusedDraining()).isEqualTo(1);
        assertThat(h.relay.allocationCount()).isZero();
        assertThat(h.sockets.opened).isEmpty();
    }

    @Test
    void whileDrainingWithoutAnAlternateServerOfTheFamilyANewAllocateGets508() {
        h.relay.drain(List.of(ALTERNATE6));
        StunMessage refused = h.send(CLIENT, h.signed(CLIENT, Req.allocate()));
        assertThat(refused.errorCode()).isEqualTo(508);
        assertThat(refused.errorReason())
                .as("a person or a probe tells a drain from a full port range by it")
                .isEqualTo("Insufficient Capacity (draining)");
        Harness plain = new Harness();
        plain.relay.drain(List.of());
        assertThat(plain.send(CLIENT6, plain.signed(CLIENT6, Req.allocate())).errorCode())
                .isEqualTo(508);
        assertThat(plain.relay.draining()).isTrue();
    }

    @Test
    void anAllocationMadeBeforeTheDrainKeepsRefreshingPermittingAndRelaying() {
        StunMessage allocated = h.allocate(CLIENT);
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(allocated).getPort());
        h.relay.drain(List.of(ALTERNATE));

        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CREATE_PERMISSION)
                                                .peer(PEER)))
                        .errorCode())
                .isEqualTo(-1);
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.request(StunMethod.REFRESH)))
                        .errorCode())
                .isEqualTo(-1);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(PEER).data(new byte[] {1}).bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
        h.fromPeer(endpoint, PEER, new byte[] {2});
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
        assertThat(h.send(CLIENT, Req.request(StunMethod.BINDING)).errorCode()).isEqualTo(-1);
    }

    @Test
    void aRetransmittedAllocateFromBeforeTheDrainGetsItsSuccessAgain() {
        Req allocate = h.signed(CLIENT, Req.allocate());
        assertThat(h.send(CLIENT, allocate).errorCode()).isEqualTo(-1);
        h.relay.drain(List.of(ALTERNATE));
        assertThat(h.send(CLIENT, allocate).errorCode()).isEqualTo(-1);
        assertThat(h.relay.counters().allocationsRefusedDraining()).isZero();
    }

    @Test
    void theLastAllocationEndingLeavesADrainingRelayEmpty() {
        h.allocate(CLIENT);
        h.relay.drain(List.of());
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.REFRESH).lifetime(0)))
                        .errorCode())
                .isEqualTo(-1);
        assertThat(h.relay.allocationCount()).isZero();
    }
}
