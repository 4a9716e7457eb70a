package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static dev.turnpike.core.Harness.PEER;
import static dev.turnpike.core.Harness.REALM;
import static dev.turnpike.core.Harness.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The operator's hand: an allocation ended, a credential revoked (and the revocation lifted), by name or whole. */
class OperatorTest {
    private final Harness h = new Harness();

    private long onlyId() {
        List<AllocationSummary> all = h.relay.allocations(h.nowNs);
        assertThat(all).hasSize(1);
        return all.get(0).id();
    }

    private int end(long id) {
        h.out.clear();
        boolean ended = h.relay.endAllocation(id, h.nowNs, h.out);
        return ended ? drain() : -drain() - 1;
    }

    private int revoke(String name, long until) {
        h.out.clear();
        int ended = h.relay.revoke(name, until, h.epochSeconds, h.nowNs, h.out);
        drain();
        return ended;
    }

    /** Keeps what the core asked for, as the loop's courier would; answers how many commands there were. */
    private int drain() {
        int n = 0;
        for (Command c = h.out.poll(); c != null; c = h.out.poll(), n++) {
            if (c instanceof Command.CloseRelay close) {
                h.closed.add(close.relay());
            } else if (c instanceof Command.AllocationEvent event) {
                h.events.add(event);
            }
        }
        return n;
    }

    private StunMessage refresh(InetSocketAddress client) {
        return h.send(client, h.signed(client, Req.request(StunMethod.REFRESH)));
    }

    private StunMessage allocateAs(InetSocketAddress client, String user, String password) {
        byte[] key = LongTermKey.md5(user, REALM, password);
        return h.send(client, Req.allocate().auth(user, REALM, h.nonce(client), key));
    }

    private String rest(String nameAndTag) {
        return (h.epochSeconds + 3600) + ":" + nameAndTag;
    }

    private String restPassword(String username) {
        return Credentials.restPassword(Harness.SECRET.getBytes(StandardCharsets.UTF_8), username);
    }

    @Test
    void anAllocationTheOperatorEndsClosesItsRelaySocketAndItsClientsNextRequestGets437() {
        StunMessage allocated = h.allocate(CLIENT);
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(allocated).getPort());
        h.permit(CLIENT, PEER);

        assertThat(end(onlyId())).isPositive();

        assertThat(h.closed).contains(endpoint);
        assertThat(h.events)
                .last()
                .extracting(Command.AllocationEvent::kind)
                .isEqualTo(Command.AllocationEvent.Kind.ENDED);
        assertThat(h.relay.allocationCount()).isZero();
        assertThat(refresh(CLIENT).errorCode()).isEqualTo(437);
        h.fromPeer(endpoint, PEER, new byte[] {1});
        assertThat(h.out.forward()).as("nothing relayed for it any more").isEqualTo(Outbox.Forward.NONE);
    }

    @Test
    void endingAnIdThisRelayDoesNotHoldChangesNothing() {
        h.allocate(CLIENT);
        long id = onlyId();
        assertThat(end(id + 1)).as("no command").isEqualTo(-1);
        assertThat(end(id - 1)).isEqualTo(-1);
        assertThat(h.relay.allocationCount()).isEqualTo(1);
        assertThat(end(id)).isPositive();
        assertThat(end(id)).as("once ended, gone").isEqualTo(-1);
    }

    @Test
    void theIdsOfTwoWorkersNeverMeetAndNameTheWorker() {
        AllocationQuotas quotas = AllocationQuotas.shared();
        Harness first = new Harness(b -> b.relayPortShare(0, 2), quotas);
        Harness second = new Harness(b -> b.relayPortShare(1, 2), quotas);
        for (int i = 0; i < 5; i++) {
            InetSocketAddress client = new InetSocketAddress(CLIENT.getAddress(), 1000 + i);
            first.allocate(client);
            second.allocate(client);
        }
        List<Long> ids = new java.util.ArrayList<>();
        first.relay.allocations(first.nowNs).forEach(a -> ids.add(a.id()));
        second.relay.allocations(second.nowNs).forEach(a -> ids.add(a.id()));
        assertThat(ids).hasSize(10).doesNotHaveDuplicates();
        assertThat(first.relay.allocations(first.nowNs)).allMatch(a -> a.id() % 2 == 0);
        assertThat(second.relay.allocations(second.nowNs)).allMatch(a -> a.id() % 2 == 1);
    }

    @Test
    void aRevokedUserIsAnswered401AndTheAllocationsItHoldsEndAtOnce() {
        h.allocate(CLIENT);
        h.allocate(CLIENT2);
        assertThat(allocateAs(new InetSocketAddress(CLIENT.getAddress(), 7), "bob", "builder")
                        .errorCode())
                .isEqualTo(-1);

        assertThat(revoke(USER, Revocations.FOREVER)).as("alice's two").isEqualTo(2);

        assertThat(h.events.stream().filter(e -> e.kind() == Command.AllocationEvent.Kind.REVOKED))
                .hasSize(2)
                .allMatch(e -> e.user().equals(USER));
        assertThat(h.relay.allocationCount()).as("bob's stays").isEqualTo(1);
        StunMessage refused = h.send(CLIENT, h.signed(CLIENT, Req.allocate()));
        assertThat(refused.errorCode()).isEqualTo(401);
        assertThat(h.relay.counters().authFailures(RelayCounters.AuthFailure.REVOKED))
                .isEqualTo(1);
    }

    @Test
    void revokingANameCoversEveryCredentialMintedForItAndAWholeCredentialOnlyThatOne() {
        String carol = rest("carol");
        String tagged = rest("carol:customer-42");
        String dave = rest("dave");
        InetSocketAddress a = new InetSocketAddress(CLIENT.getAddress(), 1);
        InetSocketAddress b = new InetSocketAddress(CLIENT.getAddress(), 2);
        InetSocketAddress c = new InetSocketAddress(CLIENT.getAddress(), 3);
        assertThat(allocateAs(a, carol, restPassword(carol)).errorCode()).isEqualTo(-1);
        assertThat(allocateAs(b, tagged, restPassword(tagged)).errorCode()).isEqualTo(-1);
        assertThat(allocateAs(c, dave, restPassword(dave)).errorCode()).isEqualTo(-1);

        assertThat(revoke(dave, Revocations.FOREVER)).as("the whole credential").isEqualTo(1);
        String otherDave = (h.epochSeconds + 7200) + ":dave";
        assertThat(allocateAs(c, otherDave, restPassword(otherDave)).errorCode())
                .as("another credential of dave's")
                .isEqualTo(-1);

        assertThat(revoke("carol", Revocations.FOREVER))
                .as("with and without a tag")
                .isEqualTo(2);
        String fresh = (h.epochSeconds + 9000) + ":carol:another-tag";
        assertThat(allocateAs(a, fresh, restPassword(fresh)).errorCode()).isEqualTo(401);
    }

    @Test
    void aRevocationEndsAtItsTimeOrWhenLifted() {
        revoke(USER, h.epochSeconds + 10);
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.allocate())).errorCode()).isEqualTo(401);
        h.advanceSeconds(10);
        assertThat(h.send(CLIENT, h.signed(CLIENT, Req.allocate())).errorCode()).isEqualTo(-1);

        revoke("bob", Revocations.FOREVER);
        InetSocketAddress bob = new InetSocketAddress(CLIENT.getAddress(), 9);
        assertThat(allocateAs(bob, "bob", "builder").errorCode()).isEqualTo(401);
        assertThat(h.relay.liftRevocation("bob")).isTrue();
        assertThat(h.relay.liftRevocation("bob")).as("lifted already").isFalse();
        assertThat(allocateAs(bob, "bob", "builder").errorCode()).isEqualTo(-1);
    }

    @Test
    void aRevocationAlreadyOverEndsNothing() {
        h.allocate(CLIENT);
        assertThat(revoke(USER, h.epochSeconds)).isZero();
        assertThat(h.relay.allocationCount()).isEqualTo(1);
    }
}
