package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Relays that are workers of one process: each hands out its own share of the relay ports, and the quotas count
 * the allocations of all of them together.
 */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class WorkerSharesTest {
    private static InetSocketAddress client(int n) {
        return new InetSocketAddress(Harness.ip("10.2.0." + n), 40_000);
    }

    static java.util.stream.Stream<Long> seeds() {
        return Seeds.replayedAndFresh(1_000);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void theSharesOfTheRelayPortsAreContiguousDisjointAndCoverTheRange(long seed) {
        Gen g = new Gen(seed);
        int low = g.between(1, 65_535);
        int width = g.between(0, 2_000);
        int shares = g.between(1, 64);
        int high = Math.min(65_535, low + width);
        if (high - low + 1 < shares) {
            return; // refused at construction: see the test below
        }
        int next = low;
        for (int i = 0; i < shares; i++) {
            RelayConfig config = Harness.configuration()
                    .relayPorts(low, high)
                    .relayPortShare(i, shares)
                    .build();
            assertThat(config.poolLow())
                    .as("share %d starts where the last ended", i)
                    .isEqualTo(next);
            assertThat(config.poolHigh()).as("share %d is not empty", i).isGreaterThanOrEqualTo(config.poolLow());
            next = config.poolHigh() + 1;
        }
        assertThat(next - 1).as("the last share ends at the range's end").isEqualTo(high);
    }

    @Test
    void moreSharesThanRelayPortsAreRefused() {
        assertThatThrownBy(() -> Harness.configuration()
                        .relayPorts(50000, 50002)
                        .relayPortShare(0, 4)
                        .build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aWorkerHandsOutOnlyPortsOfItsShare() {
        Harness second = new Harness(b -> b.relayPortShare(1, 2).quotas(0, 0, 0)); // 50500-50999 of 50000-50999
        for (int i = 1; i <= 50; i++) {
            int port = second.relayedAddress(second.allocate(client(i))).getPort();
            assertThat(port).isBetween(50500, 50999);
        }
    }

    @Test
    void aPeerOnAnotherWorkersRelayedAddressIsReachableAndAnUnheldPortOfItsShareIsNot() {
        LiveRelayPorts live = LiveRelayPorts.shared();
        Harness.FakeSockets sockets = new Harness.FakeSockets();
        Harness first = new Harness(
                b -> b.relayPortShare(0, 2), AllocationQuotas.shared(), Reservations.shared(), sockets, live);
        Harness second = new Harness(
                b -> b.relayPortShare(1, 2), AllocationQuotas.shared(), Reservations.shared(), sockets, live);
        InetSocketAddress otherWorkersRelay = first.relayedAddress(first.allocate(client(1)));
        assertThat(otherWorkersRelay.getPort()).isBetween(50_000, 50_499);
        second.allocate(CLIENT);
        assertThat(second.bindChannel(CLIENT, 0x4000, otherWorkersRelay))
                .as("the first worker's allocation, on the relay's own address")
                .isEqualTo(-1);
        int unheld = otherWorkersRelay.getPort() == 50_000 ? 50_001 : 50_000;
        assertThat(second.bindChannel(CLIENT, 0x4001, new InetSocketAddress(Harness.RELAY_IPV4, unheld)))
                .as("a port of the first worker's share that no allocation holds")
                .isEqualTo(403);

        // the first worker's allocation ends: its address is no peer any more, on the second worker either
        first.send(
                client(1),
                first.signed(client(1), Req.request(StunMethod.REFRESH).lifetime(0)));
        assertThat(second.bindChannel(CLIENT, 0x4002, otherWorkersRelay)).isEqualTo(403);
    }

    @Test
    void workersSharingQuotasMeetOneUserQuotaBetweenThem() {
        AllocationQuotas shared = AllocationQuotas.shared();
        Harness first = new Harness(b -> b.relayPortShare(0, 2).quotas(0, 2, 0), shared);
        Harness second = new Harness(b -> b.relayPortShare(1, 2).quotas(0, 2, 0), shared);
        first.allocate(client(1));
        second.allocate(client(2));
        StunMessage third = second.send(client(3), second.signed(client(3), Req.allocate()));
        assertThat(third.errorCode())
                .as("alice holds two allocations, one on each worker")
                .isEqualTo(486);

        // one ends on the first worker: the second may allocate again
        first.send(
                client(1),
                first.signed(client(1), Req.request(StunMethod.REFRESH).lifetime(0)));
        assertThat(second.send(client(3), second.signed(client(3), Req.allocate()))
                        .errorCode())
                .isEqualTo(-1);
    }

    @Test
    void workersSharingQuotasMeetOneTotalBetweenThem() {
        AllocationQuotas shared = AllocationQuotas.shared();
        List<Harness> workers = List.of(
                new Harness(b -> b.relayPortShare(0, 2).quotas(3, 0, 0), shared),
                new Harness(b -> b.relayPortShare(1, 2).quotas(3, 0, 0), shared));
        for (int i = 0; i < 3; i++) {
            workers.get(i % 2).allocate(client(i + 1));
        }
        Harness next = workers.get(1);
        assertThat(next.send(client(9), next.signed(client(9), Req.allocate())).errorCode())
                .isEqualTo(486);
        assertThat(shared.total()).isEqualTo(3);
    }

    @Test
    void anAllocateThatFindsNoPortGivesItsQuotaBack() {
        AllocationQuotas shared = AllocationQuotas.shared();
        Harness h = new Harness(b -> b.relayPorts(50000, 50000).quotas(0, 1, 0), shared);
        for (int port = 50000; port <= 50000; port++) {
            h.sockets.taken.add(port);
        }
        assertThat(h.send(client(1), h.signed(client(1), Req.allocate())).errorCode())
                .isEqualTo(508);
        assertThat(shared.total())
                .as("nothing counted for an allocation never made")
                .isZero();
        h.sockets.taken.clear();
        h.allocate(client(2));
        assertThat(shared.total()).isEqualTo(1);
    }

    /** Two workers sharing quotas, reservations and the kernel's ports; each hands out half of 50000-50999. */
    private static List<Harness> twoWorkers() {
        AllocationQuotas quotas = AllocationQuotas.shared();
        Reservations reservations = Reservations.shared();
        Harness.FakeSockets kernel = new Harness.FakeSockets();
        return List.of(
                new Harness(b -> b.relayPortShare(0, 2), quotas, reservations, kernel),
                new Harness(b -> b.relayPortShare(1, 2), quotas, reservations, kernel));
    }

    private static StunMessage reserveNext(Harness h, InetSocketAddress client) {
        StunMessage response = h.send(
                client,
                h.signed(client, Req.allocate().with(w -> w.addByteAndReserved(StunAttribute.EVEN_PORT, 0x80))));
        assertThat(response.errorCode()).as("allocate error").isEqualTo(-1);
        return response;
    }

    private static StunMessage claim(Harness h, InetSocketAddress client, byte[] token) {
        return h.send(
                client, h.signed(client, Req.allocate().with(w -> w.addBytes(StunAttribute.RESERVATION_TOKEN, token))));
    }

    @Test
    void aPortReservedOnOneWorkerIsClaimedOnTheOther() {
        List<Harness> workers = twoWorkers();
        StunMessage first = reserveNext(workers.get(0), client(1));
        int port = workers.get(0).relayedAddress(first).getPort();
        byte[] token = first.bytes(first.indexOf(StunAttribute.RESERVATION_TOKEN));

        // the client's second socket hashed to the other worker
        StunMessage second = claim(workers.get(1), client(2), token);
        assertThat(second.errorCode()).isEqualTo(-1);
        assertThat(workers.get(1).relayedAddress(second).getPort()).isEqualTo(port + 1);
        assertThat(workers.get(1).sockets.adopted)
                .singleElement()
                .satisfies(e -> assertThat(e.port()).isEqualTo(port + 1));

        // the worker that reserved it, at its expiry, neither closes the socket (the other has it) nor keeps the port
        workers.get(0).advanceSeconds(31);
        assertThat(workers.get(0).closed).isEmpty();
        assertThat(claim(workers.get(0), client(3), token).errorCode())
                .as("claimed once only")
                .isEqualTo(508);
    }

    @Test
    void aReservationExpiresOnTheWorkerThatMadeItAndCannotBeClaimedAfter() {
        List<Harness> workers = twoWorkers();
        StunMessage first = reserveNext(workers.get(0), client(1));
        int port = workers.get(0).relayedAddress(first).getPort();
        byte[] token = first.bytes(first.indexOf(StunAttribute.RESERVATION_TOKEN));
        workers.get(0).advanceSeconds(31);
        assertThat(workers.get(0).closed)
                .singleElement()
                .satisfies(e -> assertThat(e.port()).isEqualTo(port + 1));
        assertThat(claim(workers.get(1), client(2), token).errorCode()).isEqualTo(508);
    }

    @Test
    void anExpiredReservationOfAnotherWorkerNotSweptYetIsClosedByTheClaimer() {
        List<Harness> workers = twoWorkers();
        StunMessage first = reserveNext(workers.get(0), client(1));
        int port = workers.get(0).relayedAddress(first).getPort();
        byte[] token = first.bytes(first.indexOf(StunAttribute.RESERVATION_TOKEN));
        workers.get(1).advanceSeconds(31); // the claimer's clock has passed the expiry; the owner has not swept
        assertThat(claim(workers.get(1), client(2), token).errorCode()).isEqualTo(508);
        assertThat(workers.get(1).closed)
                .singleElement()
                .satisfies(e -> assertThat(e.port()).isEqualTo(port + 1));
        workers.get(0).advanceSeconds(31);
        assertThat(workers.get(0).closed).as("closed once, by the claimer").isEmpty();
    }
}
