package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.loop.EventLoop;
import dev.turnpike.daemon.loop.KernelTransmitter;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.SocketOptions;
import dev.turnpike.daemon.loop.Transmitter;
import io.netty.buffer.PooledByteBufAllocator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;

/**
 * An event loop on 127.0.0.1 with a relay that lets alice allocate and relay to loopback peers, on its own
 * thread, as the daemon runs it. Each iteration publishes what the tests read from other threads.
 */
final class LoopFixture implements AutoCloseable {
    static final String REALM = "example.org";
    static final String USER = "alice";
    static final String PASSWORD = "wonderland";

    /** What the loop thread saw at the end of an iteration. */
    record Seen(
            long iterations,
            int queuedPackets,
            boolean suspended,
            LoopCounters loop,
            RelayCounters core,
            long inconsistentIterations) {}

    final EventLoop loop;
    final Relay relay;
    final InetSocketAddress server;
    private final Thread thread;
    private final AtomicReference<Seen> seen = new AtomicReference<>();
    private long inconsistentIterations; // loop thread only

    LoopFixture() throws Exception {
        this(new KernelTransmitter(), SocketOptions.KERNEL_DEFAULTS, b -> b);
    }

    LoopFixture(Transmitter transmitter, SocketOptions options, UnaryOperator<RelayConfig.Builder> customise)
            throws Exception {
        this(transmitter, options, 200, customise);
    }

    /** With a block of {@code relayPorts} relay ports. */
    LoopFixture(
            Transmitter transmitter,
            SocketOptions options,
            int relayPorts,
            UnaryOperator<RelayConfig.Builder> customise)
            throws Exception {
        loop = new EventLoop(
                List.of(new InetSocketAddress("127.0.0.1", 0)),
                PooledByteBufAllocator.DEFAULT,
                options,
                transmitter,
                new java.util.concurrent.ConcurrentHashMap<>());
        List<InetSocketAddress> bound = loop.boundListeners();
        server = bound.get(0);
        Interop.PortRange ports = Interop.relayPorts(relayPorts);
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        RelayConfig.Builder builder = RelayConfig.builder(bound)
                .credentials(new Credentials(REALM, Map.of(USER, PASSWORD), List.of()))
                .relayIpv4(loopback, null)
                .relayPorts(ports.low(), ports.high())
                .policy(new PeerPolicy(
                        List.of(Cidr.parse("127.0.0.0/8")), List.of(), Set.of(loopback), Set.copyOf(bound)));
        relay = new Relay(customise.apply(builder).build(), loop.relaySockets());
        loop.attach(relay);
        loop.onIteration(l -> {
            if (!l.queueConsistent()) {
                inconsistentIterations++;
            }
            seen.set(new Seen(
                    l.counters().iterations,
                    l.queuedPackets(),
                    l.suspended(),
                    l.counters().copy(),
                    relay.counters().copy(),
                    inconsistentIterations));
            return null;
        });
        thread = new Thread(loop, "test-loop");
        thread.start();
    }

    TurnClient client() throws Exception {
        return new TurnClient(server, USER, PASSWORD, REALM);
    }

    /** The loop's state at the end of its latest iteration (waits for the first). */
    Seen seen() {
        awaitTrue(() -> seen.get() != null, 5_000, "the loop's first iteration");
        return seen.get();
    }

    /** Waits up to {@code timeoutMs} for {@code condition}; fails naming {@code what} if it never holds. */
    static void awaitTrue(BooleanSupplier condition, long timeoutMs, String what) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeoutMs + " ms: " + what);
            }
            Thread.onSpinWait();
            try {
                Thread.sleep(5); // a poll interval, not synchronisation: the condition decides
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    boolean alive() {
        return thread.isAlive();
    }

    @Override
    public void close() {
        loop.stop();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        assertThat(thread.isAlive()).as("the loop thread stopped").isFalse();
    }
}
