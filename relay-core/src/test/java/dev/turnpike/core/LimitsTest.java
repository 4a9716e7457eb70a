package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.PEER;
import static dev.turnpike.core.Harness.PEER2;
import static dev.turnpike.core.Harness.REALM;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.stun.ChannelData;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Quotas (486), per-allocation limits (508) and bandwidth (dropped, counted). */
class LimitsTest {
    /** Client {@code n}, each on an IP of its own (the client quota and the challenge rate are per IP). */
    private static InetSocketAddress client(int n) {
        return new InetSocketAddress(Harness.ip("10.1." + (n / 250) + "." + (n % 250 + 1)), 40_000);
    }

    private static StunMessage allocateAs(Harness h, InetSocketAddress client, String user, String password) {
        byte[] key = LongTermKey.md5(user, REALM, password);
        return h.send(client, Req.allocate().auth(user, REALM, h.nonce(client), key));
    }

    @Test
    void aUserOverTheUserQuotaGets486UntilOneOfItsAllocationsEnds() {
        Harness h = new Harness(b -> b.quotas(0, 2, 0));
        assertThat(h.allocate(client(1))).isNotNull();
        assertThat(h.allocate(client(2))).isNotNull();
        StunMessage third = h.send(client(3), h.signed(client(3), Req.allocate()));
        assertThat(third.errorCode()).isEqualTo(486);
        assertThat(h.relay.counters().allocationsRefusedQuota()).isEqualTo(1);
        assertThat(allocateAs(h, client(4), "bob", "builder").errorCode())
                .as("another user has a quota of its own")
                .isEqualTo(-1);

        assertThat(h.send(
                                client(1),
                                h.signed(
                                        client(1),
                                        Req.request(StunMethod.REFRESH).lifetime(0)))
                        .errorCode())
                .isEqualTo(-1);
        assertThat(h.send(client(3), h.signed(client(3), Req.allocate())).errorCode())
                .isEqualTo(-1);
    }

    @Test
    void timeLimitedUsernamesCountByTheirNameNotTheirExpiry() {
        Harness h = new Harness(b -> b.quotas(0, 1, 0));
        for (int i = 1; i <= 2; i++) {
            String username = (h.epochSeconds + 60 * i) + ":carol";
            String password = Credentials.restPassword(Harness.SECRET.getBytes(StandardCharsets.UTF_8), username);
            assertThat(allocateAs(h, client(i), username, password).errorCode()).isEqualTo(i == 1 ? -1 : 486);
        }
    }

    @Test
    void oneClientIpOverTheClientQuotaGets486WhateverTheUser() {
        Harness h = new Harness(b -> b.quotas(0, 0, 2));
        InetSocketAddress a = new InetSocketAddress(CLIENT.getAddress(), 1);
        InetSocketAddress b = new InetSocketAddress(CLIENT.getAddress(), 2);
        InetSocketAddress c = new InetSocketAddress(CLIENT.getAddress(), 3);
        assertThat(h.allocate(a)).isNotNull();
        assertThat(allocateAs(h, b, "bob", "builder").errorCode()).isEqualTo(-1);
        assertThat(allocateAs(h, c, "bob", "builder").errorCode()).isEqualTo(486);
        assertThat(h.allocate(client(7))).as("another IP").isNotNull();
    }

    @Test
    void theTotalOverMaxAllocationsGets486AndExpiryMakesRoom() {
        Harness h = new Harness(b -> b.quotas(2, 0, 0));
        h.allocate(client(1));
        allocateAs(h, client(2), "bob", "builder");
        assertThat(allocateAs(h, client(3), "bob", "builder").errorCode()).isEqualTo(486);
        h.advanceSeconds(601);
        assertThat(h.relay.allocationCount()).isZero();
        assertThat(allocateAs(h, client(3), "bob", "builder").errorCode()).isEqualTo(-1);
    }

    @Test
    void onePeerUserCannotTakeEveryRelayPortWithDefaultLimits() {
        Harness h = new Harness(); // 1000 relay ports; default user quota
        int granted = 0;
        for (int i = 0; i < 150; i++) {
            if (h.send(client(i), h.signed(client(i), Req.allocate())).errorCode() == -1) {
                granted++;
            }
        }
        assertThat(granted).isEqualTo(RelayConfig.DEFAULT_USER_QUOTA);
    }

    @Test
    void permissionsPastTheLimitAre508AndNoneOfTheRequestIsInstalled() {
        Harness h = new Harness(b -> b.perAllocation(2, 0));
        h.allocate(CLIENT);
        InetSocketAddress third = new InetSocketAddress(Harness.ip("8.8.4.4"), 1);
        StunMessage tooMany = h.send(
                CLIENT,
                h.signed(
                        CLIENT,
                        Req.request(StunMethod.CREATE_PERMISSION)
                                .peer(PEER)
                                .peer(PEER2)
                                .peer(third)));
        assertThat(tooMany.errorCode()).isEqualTo(508);
        assertThat(h.relay.counters().refusedOverLimit()).isEqualTo(1);
        StunMessage two = h.send(
                CLIENT,
                h.signed(
                        CLIENT,
                        Req.request(StunMethod.CREATE_PERMISSION)
                                .peer(PEER)
                                .peer(PEER2)
                                .peer(PEER)));
        assertThat(two.errorCode()).as("two peers, one named twice").isEqualTo(-1);
        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CREATE_PERMISSION)
                                                .peer(PEER)))
                        .errorCode())
                .as("refreshing a permission held")
                .isEqualTo(-1);
        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CHANNEL_BIND)
                                                .channel(0x4000)
                                                .peer(third)))
                        .errorCode())
                .as("a channel would need a third permission")
                .isEqualTo(508);
        h.advanceSeconds(301);
        assertThat(h.send(
                                CLIENT,
                                h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CREATE_PERMISSION)
                                                .peer(third)))
                        .errorCode())
                .as("expired permissions make room")
                .isEqualTo(-1);
    }

    @Test
    void channelsPastTheLimitAre508() {
        Harness h = new Harness(b -> b.perAllocation(0, 1));
        h.allocate(CLIENT);
        assertThat(h.bindChannel(CLIENT, 0x4000, PEER)).isEqualTo(-1);
        assertThat(h.bindChannel(CLIENT, 0x4000, PEER))
                .as("refreshing the channel held")
                .isEqualTo(-1);
        assertThat(h.bindChannel(CLIENT, 0x4001, PEER2)).isEqualTo(508);
    }

    @Test
    void anAllocationOverItsBandwidthHasTheExcessDroppedAndCountedEachWay() {
        // 800,000 bit/s: 100,000 bytes a second, a bucket of one second
        Harness h = new Harness(b -> b.bandwidth(800_000, 0));
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(h.allocate(CLIENT)).getPort());
        assertThat(h.bindChannel(CLIENT, 0x4000, PEER)).isEqualTo(-1);
        byte[] payload = new byte[1_000];
        int relayed = 0;
        for (int i = 0; i < 120; i++) {
            h.fromClient(CLIENT, channelData(0x4000, payload));
            relayed += h.out.forward() == Outbox.Forward.TO_PEER ? 1 : 0;
        }
        assertThat(relayed).isEqualTo(100);
        assertThat(h.dropped(RelayCounters.Drop.BANDWIDTH)).isEqualTo(20);
        h.fromPeer(endpoint, PEER, payload);
        assertThat(h.out.forward()).as("the other direction shares the budget").isEqualTo(Outbox.Forward.NONE);

        h.advanceSeconds(1);
        h.fromPeer(endpoint, PEER, payload);
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_CLIENT);
    }

    @Test
    void anAllocationHasNoBandwidthCapUnlessTheOperatorSetsOne() {
        Harness h = new Harness();
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(h.allocate(CLIENT)).getPort());
        assertThat(h.bindChannel(CLIENT, 0x4000, PEER)).isEqualTo(-1);
        byte[] payload = new byte[60_000];
        int relayed = 0;
        // 100 Mbit within the same instant, each way: far past any one-second bucket a default cap could hold
        for (int i = 0; i < 210; i++) {
            h.fromClient(CLIENT, channelData(0x4000, payload));
            relayed += h.out.forward() == Outbox.Forward.TO_PEER ? 1 : 0;
            h.fromPeer(endpoint, PEER, payload);
            relayed += h.out.forward() == Outbox.Forward.TO_CLIENT ? 1 : 0;
        }
        assertThat(relayed).isEqualTo(420);
        assertThat(h.dropped(RelayCounters.Drop.BANDWIDTH)).isZero();
    }

    @Test
    void theRelaysTotalBandwidthIsSharedByEveryAllocation() {
        Harness h = new Harness(b -> b.bandwidth(0, 8 * 70_000));
        h.allocate(CLIENT);
        assertThat(h.bindChannel(CLIENT, 0x4000, PEER)).isEqualTo(-1);
        h.fromClient(CLIENT, channelData(0x4000, new byte[60_000]));
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.TO_PEER);
        h.fromClient(CLIENT, channelData(0x4000, new byte[60_000]));
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.BANDWIDTH)).isEqualTo(1);
    }

    private static byte[] channelData(int channel, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(ChannelData.HEADER_LENGTH + payload.length);
        b.putShort((short) channel).putShort((short) payload.length).put(payload);
        return b.array();
    }
}
