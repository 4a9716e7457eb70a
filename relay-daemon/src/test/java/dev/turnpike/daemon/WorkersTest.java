package dev.turnpike.daemon;

import static dev.turnpike.daemon.LoopFixture.awaitTrue;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.loop.Listeners;
import dev.turnpike.daemon.loop.LoopSnapshot;
import dev.turnpike.daemon.loop.SocketOptions;
import dev.turnpike.daemon.stream.ProxyProtocol;
import dev.turnpike.daemon.stream.StreamLimits;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Two workers on the same loopback address, as --workers 2 runs them: the kernel spreads clients between them,
 * each hands out its own relay ports, a client relays to an allocation of the other worker, quotas count both,
 * and a drain ends them together.
 */
class WorkersTest {
    private static final int CLIENTS = 24;
    private final List<TurnClient> clients = new ArrayList<>();
    private Workers workers;
    private Interop.PortRange ports;
    private InetSocketAddress server;

    private void start(int count, int userQuota) throws Exception {
        workers = Workers.bind(
                count,
                Listeners.of(List.of(new InetSocketAddress("127.0.0.1", 0)), List.of(), List.of(), Set.of()),
                null,
                null,
                new StreamLimits(0, 0, 10_000_000_000L, 1 << 20, 0),
                ProxyProtocol.NONE,
                null,
                PooledByteBufAllocator.DEFAULT,
                new SocketOptions(0, 0, false, true, SocketOptions.DEFAULT_MAX_QUEUED_BYTES, false, count > 1, true));
        List<InetSocketAddress> bound = workers.first().boundListeners();
        server = bound.get(0);
        ports = Interop.relayPorts(200);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        List<RelayConfig> configs = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            configs.add(RelayConfig.builder(bound)
                    .credentials(new Credentials(
                            LoopFixture.REALM, Map.of(LoopFixture.USER, LoopFixture.PASSWORD), List.of()))
                    .relayIpv4(loopback, null)
                    .relayPorts(ports.low(), ports.high())
                    .relayPortShare(i, count)
                    .quotas(0, userQuota, 0)
                    .policy(new PeerPolicy(
                            List.of(Cidr.parse("127.0.0.0/8")), List.of(), Set.of(loopback), Set.copyOf(bound)))
                    .build());
        }
        workers.attach(configs);
        workers.start(new AtomicReference<>(), LoggerFactory.getLogger(WorkersTest.class));
    }

    /**
     * A client on a loopback address of its own: the relay answers at most a burst of 20 unauthenticated requests
     * per source IP and worker, and a test's 32 new clients from 127.0.0.1 went past it when the kernel put 21 of
     * them on one worker (a 401 dropped, a 5 s timeout, about one run in a hundred).
     */
    private TurnClient client() throws Exception {
        InetSocketAddress local = new InetSocketAddress("127.0.3." + (clients.size() % 250 + 2), 0);
        TurnClient client = new TurnClient(server, local, LoopFixture.USER, LoopFixture.PASSWORD, LoopFixture.REALM);
        clients.add(client);
        return client;
    }

    @AfterEach
    void stop() throws Exception {
        for (TurnClient client : clients) {
            client.close();
        }
        if (workers != null) {
            workers.stop();
            workers.join();
        }
    }

    private LoopSnapshot published() {
        awaitTrue(() -> workers.published() != null, 5_000, "every worker's first snapshot");
        return workers.published();
    }

    @Test
    void clientsAreSpreadOverBothWorkersAndEachWorkerHandsOutItsOwnRelayPorts() throws Exception {
        start(2, 0);
        int middle = ports.low() + (ports.high() - ports.low() + 1) / 2;
        List<Integer> relayPorts = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            relayPorts.add(client().allocate().getPort());
        }
        awaitTrue(
                () -> published().workers().stream()
                                .mapToLong(w -> w.relay().allocationsLive())
                                .sum()
                        == CLIENTS,
                5_000,
                "every allocation published");
        LoopSnapshot snapshot = published();
        // 24 clients on their own source ports: all on one worker has a chance of 2 in 2^24
        assertThat(snapshot.workers())
                .as("allocations on each worker")
                .allSatisfy(w -> assertThat(w.relay().allocationsLive()).isPositive());
        assertThat(snapshot.relay().allocationsLive()).isEqualTo(CLIENTS);
        long low = relayPorts.stream().filter(p -> p < middle).count();
        assertThat(low)
                .as("relay ports in the first worker's share are its allocations")
                .isEqualTo(snapshot.workers().get(0).relay().allocationsLive());
        assertThat(workers.allocations().get(5, TimeUnit.SECONDS)).hasSize(CLIENTS);
    }

    @Test
    void aClientRelaysToAnAllocationOnTheOtherWorker() throws Exception {
        start(2, 0);
        int middle = ports.low() + (ports.high() - ports.low() + 1) / 2;
        // clients until one of each worker: a relay port tells whose it is
        TurnClient first = null;
        TurnClient second = null;
        InetSocketAddress secondRelayed = null;
        InetSocketAddress firstRelayed = null;
        for (int i = 0; i < CLIENTS && (first == null || second == null); i++) {
            TurnClient client = client();
            InetSocketAddress relayed = client.allocate();
            if (relayed.getPort() < middle && first == null) {
                first = client;
                firstRelayed = relayed;
            } else if (relayed.getPort() >= middle && second == null) {
                second = client;
                secondRelayed = relayed;
            }
        }
        assertThat(first).as("an allocation on the first worker").isNotNull();
        assertThat(second).as("an allocation on the second worker").isNotNull();
        first.createPermission(secondRelayed);
        second.createPermission(firstRelayed);
        byte[] payload = "across workers".getBytes(StandardCharsets.UTF_8);
        first.sendIndication(secondRelayed, payload);
        ByteBuffer datagram = second.receive(2_000);
        assertThat(datagram).as("a datagram at the second client").isNotNull();
        StunMessage data = new StunMessage();
        assertThat(data.wrap(datagram, datagram.position(), datagram.remaining()))
                .isEqualTo(DecodeStatus.OK);
        assertThat(data.method()).as("a Data indication").isEqualTo(StunMethod.DATA);
        assertThat(data.messageClass()).isEqualTo(StunMethod.CLASS_INDICATION);
        assertThat(data.xorAddress(data.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                .as("from the first client's relayed address")
                .isEqualTo(firstRelayed);
    }

    @Test
    void aRelayPortReservedOnOneWorkerIsClaimedFromTheOther() throws Exception {
        start(2, 0);
        List<InetSocketAddress> reservers = new ArrayList<>();
        List<InetSocketAddress> claimers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            TurnClient reserver = client();
            StunMessage reserved = reserver.request(
                    StunMethod.ALLOCATE,
                    w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                            .addByteAndReserved(StunAttribute.EVEN_PORT, 0x80));
            int even = reserved.xorAddress(reserved.indexOf(StunAttribute.XOR_RELAYED_ADDRESS))
                    .getPort();
            byte[] token = reserved.bytes(reserved.indexOf(StunAttribute.RESERVATION_TOKEN));
            TurnClient claimer = client();
            StunMessage claimed = claimer.request(
                    StunMethod.ALLOCATE,
                    w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                            .addBytes(StunAttribute.RESERVATION_TOKEN, token));
            assertThat(claimed.xorAddress(claimed.indexOf(StunAttribute.XOR_RELAYED_ADDRESS))
                            .getPort())
                    .as("the reserved neighbour")
                    .isEqualTo(even + 1);
            reservers.add(reserver.localAddress());
            claimers.add(claimer.localAddress());
        }
        Set<InetSocketAddress> onSecond = workers.worker(1).allocations().get(5, TimeUnit.SECONDS).stream()
                .map(AllocationSummary::client)
                .collect(java.util.stream.Collectors.toSet());
        long across = 0;
        for (int i = 0; i < reservers.size(); i++) {
            across += onSecond.contains(reservers.get(i)) != onSecond.contains(claimers.get(i)) ? 1 : 0;
        }
        // 16 pairs, each on two workers with a chance of one in two: none across has a chance of 2^-16
        assertThat(across).as("pairs whose claim reached the other worker").isPositive();
    }

    @Test
    void theUserQuotaCountsTheAllocationsOfBothWorkers() throws Exception {
        start(2, 5);
        int granted = 0;
        int refused = 0;
        for (int i = 0; i < CLIENTS; i++) {
            StunMessage response =
                    client().ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
            if (response.errorCode() == 486) {
                refused++;
            } else if (response.errorCode() == -1) {
                granted++;
            }
        }
        assertThat(granted).isEqualTo(5);
        assertThat(refused).isEqualTo(CLIENTS - 5);
    }

    @Test
    void aDrainEndsEveryWorkerOnlyOnceNoWorkerHasAnAllocationLeft() throws Exception {
        start(2, 0);
        List<TurnClient> allocated = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            TurnClient client = client();
            client.allocate();
            allocated.add(client);
        }
        workers.drain(List.of(), TimeUnit.SECONDS.toNanos(60)).get(5, TimeUnit.SECONDS);
        for (int i = 0; i < allocated.size() - 1; i++) {
            allocated.get(i).refresh(0);
        }
        // one allocation is left, on one worker: neither worker ends, so none leaves the SO_REUSEPORT group
        Thread.sleep(1_500); // past a loop's longest wait, so a worker that wrongly ended would have
        assertThat(workers.published().workers()).hasSize(2);
        assertThat(workers.first().counters().iterations).isPositive();
        assertThat(threadsAlive()).isEqualTo(2);
        allocated.get(allocated.size() - 1).refresh(0);
        workers.join();
        assertThat(threadsAlive()).isZero();
    }

    private static long threadsAlive() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("turnpike-loop-") && t.isAlive())
                .count();
    }
}
