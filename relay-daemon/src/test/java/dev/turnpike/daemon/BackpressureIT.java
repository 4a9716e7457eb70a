package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.loop.EventLoop;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.SocketOptions;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The relay's promise with real sockets: when the link toward a peer is slower than the offered load, the
 * relay delays packets instead of dropping them. A peer sits in a network namespace behind a veth whose egress
 * is limited to 8 Mbit/s; a client offers far more. Every packet the relay accepted must be handed to the
 * kernel (0 relay-side drops, some buffered), timers must keep running while the loop is suspended, the
 * write-readiness event must be what wakes it, and once drained, an idle loop must not spin.
 */
class BackpressureIT {
    private static final int PACKETS = 4_000;
    private static final int PAYLOAD = 1_000;
    private static final int CHANNEL = 0x4001;

    private record Snapshot(LoopCounters loop, long accepted, int queued) {}

    /** Datagrams the kernel dropped because a UDP receive buffer was full (all sockets, from /proc/net/snmp). */
    private static long udpRcvbufErrors() throws java.io.IOException {
        List<String> udp = java.nio.file.Files.readAllLines(Path.of("/proc/net/snmp")).stream()
                .filter(line -> line.startsWith("Udp: "))
                .toList();
        List<String> names = List.of(udp.get(0).split(" "));
        return Long.parseLong(udp.get(1).split(" ")[names.indexOf("RcvbufErrors")]);
    }

    @Test
    void aSlowLinkDelaysPacketsInsteadOfDroppingThem() throws Exception {
        Path peerTool = Interop.tool("turnutils_peer", "coturn");
        try (NetworkNamespace ns = NetworkNamespace.create("8mbit")) {
            EventLoop loop = new EventLoop(
                    List.of(new InetSocketAddress("127.0.0.1", 0)),
                    PooledByteBufAllocator.DEFAULT,
                    SocketOptions.KERNEL_DEFAULTS);
            List<InetSocketAddress> bound = loop.boundListeners();
            Relay relay = new Relay(
                    RelayConfig.builder(bound)
                            .credentials(new Credentials("example.org", Map.of("alice", "wonderland"), List.of()))
                            .relayIpv4(InetAddress.getByName(ns.hostAddress), null)
                            .relayPorts(50000, 50999)
                            .policy(new PeerPolicy(
                                    List.of(Cidr.parse("10.231.77.0/30")),
                                    List.of(),
                                    Set.of(InetAddress.getByName("127.0.0.1")),
                                    Set.copyOf(bound)))
                            .build(),
                    loop.relaySockets());
            loop.attach(relay);
            AtomicReference<Snapshot> snapshot = new AtomicReference<>();
            loop.onIteration(l -> {
                snapshot.set(
                        new Snapshot(l.counters().copy(), relay.counters().packetsClientToPeer(), l.queuedPackets()));
                return null;
            });
            Thread thread = new Thread(loop, "test-loop");
            thread.start();
            int peerPort = 3480;
            try (Background peer = ns.exec(peerTool.toString(), "-L", ns.peerAddress, "-p", String.valueOf(peerPort));
                    TurnClient client = new TurnClient(bound.get(0), "alice", "wonderland", "example.org")) {
                InetSocketAddress peerAddress = new InetSocketAddress(ns.peerAddress, peerPort);
                client.allocate();
                client.channelBind(CHANNEL, peerAddress);

                long rcvbufErrorsBefore = udpRcvbufErrors();
                // Offer about 40 Mbit/s toward an 8 Mbit/s link, in bursts of 100 packets every 20 ms, until at least
                // PACKETS were offered and a timer has fired while the loop was suspended (at most 15 s).
                ByteBuffer payload = ByteBuffer.allocate(PAYLOAD);
                int echoes = 0;
                int offered = 0;
                long blastDeadline = System.nanoTime() + 15_000_000_000L;
                while ((offered < PACKETS || snapshot.get().loop().timerRunsWhileSuspended == 0)
                        && System.nanoTime() < blastDeadline) {
                    for (int burst = 0; burst < 100; burst++) {
                        if (client.sendChannelData(CHANNEL, payload)) {
                            offered++;
                        }
                    }
                    LockSupport.parkNanos(20_000_000); // pacing the offered load, not synchronisation
                    while (client.receive(0) != null) {
                        echoes++;
                    }
                }
                // Wait until the relay has handed every accepted packet to the kernel.
                long deadline = System.nanoTime() + 60_000_000_000L;
                Snapshot s;
                do {
                    LockSupport.parkNanos(50_000_000);
                    while (client.receive(0) != null) {
                        echoes++;
                    }
                    s = snapshot.get();
                } while ((s == null || s.queued() > 0 || s.loop().sentToPeers < s.accepted())
                        && System.nanoTime() < deadline);
                assertThat(s.queued()).as("packets still queued after 60 s").isZero();
                // The qdisc still holds up to a second of packets; their echoes come back through the relay.
                // Idle means: no echo for a whole second (at most 30 s of waiting).
                long quietDeadline = System.nanoTime() + 30_000_000_000L;
                while (client.receive(1_000) != null && System.nanoTime() < quietDeadline) {
                    echoes++;
                }

                // Idle now: with no queue, no write interest may be left to spin on.
                AtomicLong iterations = new AtomicLong();
                loop.onIteration(l -> iterations.incrementAndGet());
                var threads = ManagementFactory.getThreadMXBean();
                long cpuBefore = threads.getThreadCpuTime(thread.threadId());
                long idleStart = System.nanoTime();
                LockSupport.parkNanos(2_000_000_000L);
                long idleNs = System.nanoTime() - idleStart;
                long idleCpuNs = threads.getThreadCpuTime(thread.threadId()) - cpuBefore;
                long idleIterations = iterations.get();
                loop.stop();
                thread.join(10_000);
                LoopCounters counters = loop.counters();
                long accepted = relay.counters().packetsClientToPeer();
                String qdisc = ns.qdiscStatistics();
                long kernelDrops = udpRcvbufErrors() - rcvbufErrorsBefore;
                System.out.printf(
                        "backpressure: offered %d, accepted %d, sent to peer %d, buffered %d, suspended %d ms in %d waits "
                                + "(%d woken by writability), timer runs while suspended %d, echoes %d, kernel receive-buffer "
                                + "drops %d, idle: %d iterations and %d ms CPU in %d ms%n%s%n",
                        offered,
                        accepted,
                        counters.sentToPeers,
                        counters.packetsBuffered,
                        counters.suspendedNs / 1_000_000,
                        counters.suspendedWaits,
                        counters.suspendedWakeupsByWritability,
                        counters.timerRunsWhileSuspended,
                        echoes,
                        kernelDrops,
                        idleIterations,
                        idleCpuNs / 1_000_000,
                        idleNs / 1_000_000,
                        qdisc);

                assertThat(peer.alive()).isTrue();
                // While suspended the relay reads nothing, so the kernel may drop in its receive buffer (UDP has
                // no backpressure); every offered packet is either accepted by the relay or counted there.
                assertThat(accepted).as("packets the relay accepted").isPositive();
                assertThat(accepted + kernelDrops)
                        .as("accepted + kernel receive-buffer drops")
                        .isGreaterThanOrEqualTo(offered);
                assertThat(counters.sentToPeers)
                        .as("every accepted packet was sent")
                        .isEqualTo(accepted);
                assertThat(counters.sendErrors).as("send errors").isZero();
                assertThat(counters.packetsBuffered)
                        .as("the link was slow enough to buffer")
                        .isPositive();
                assertThat(counters.suspendedNs).isPositive();
                assertThat(counters.timerRunsWhileSuspended)
                        .as("timers ran while suspended")
                        .isPositive();
                // A suspended wait ends when a socket can take more, or at a timer deadline; never does it hang on
                // until some unrelated event comes along.
                assertThat(counters.suspendedWakeupsByWritability).isPositive();
                assertThat(counters.suspendedWaits - counters.suspendedWakeupsByWritability)
                        .as("suspended waits not ended by writability")
                        .isLessThanOrEqualTo(counters.timerRuns + 1);
                Matcher sentByQdisc = Pattern.compile("Sent \\d+ bytes (\\d+) pkt \\(dropped (\\d+)")
                        .matcher(qdisc);
                assertThat(sentByQdisc.find()).as(qdisc).isTrue();
                assertThat(Long.parseLong(sentByQdisc.group(2)))
                        .as("dropped by the qdisc")
                        .isZero();
                assertThat(Long.parseLong(sentByQdisc.group(1)))
                        .as("sent over the link")
                        .isGreaterThanOrEqualTo(accepted);
                // An idle loop wakes for its 1 s timer, not thousands of times: no spin on write interest.
                assertThat(idleIterations).as("loop iterations in 2 s idle").isLessThan(10);
                assertThat(idleCpuNs).as("loop CPU in 2 s idle").isLessThan(200_000_000L);
            } finally {
                loop.stop();
                thread.join(10_000);
            }
        }
    }
}
