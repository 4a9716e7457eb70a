package dev.turnpike.daemon;

import dev.turnpike.core.AllocationQuotas;
import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.LiveRelayPorts;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.Reservations;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocalThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;

/**
 * The process's event loops (--workers): each the seed's one-thread loop with its own listening sockets, bound to
 * the same addresses in one SO_REUSEPORT group so that the kernel hashes each client's 5-tuple to one of them,
 * its own core, relay sockets and share of the relay ports. On the data path they share nothing; the quotas are
 * counted together ({@link AllocationQuotas#shared}), a port reserved for a RESERVATION-TOKEN can be claimed on
 * any of them ({@link Reservations#shared}), and what other threads ask (metrics, the admin view, a reload, a
 * drain) is asked of each and put together here.
 */
final class Workers {
    private final List<EventLoop> loops;
    private final List<Thread> threads = new ArrayList<>();
    private final AllocationQuotas quotas;
    private final Reservations reservations;
    private final LiveRelayPorts livePorts;

    private Workers(List<EventLoop> loops) {
        this.loops = List.copyOf(loops);
        boolean alone = loops.size() == 1;
        this.quotas = alone ? AllocationQuotas.local() : AllocationQuotas.shared();
        this.reservations = alone ? Reservations.local() : Reservations.shared();
        this.livePorts = alone ? LiveRelayPorts.local() : LiveRelayPorts.shared();
    }

    /**
     * Binds {@code count} loops' listeners: the first on the addresses asked for, the others on the addresses it
     * got (a port 0 resolved), all with SO_REUSEPORT when there are several.
     */
    static Workers bind(
            int count,
            Listeners listeners,
            SSLContext context,
            StreamTransport.Limits limits,
            StreamTransport.ProxyProtocol proxy,
            ByteBufAllocator allocator,
            SocketOptions options)
            throws IOException {
        HeldPorts.refuse(listeners);
        List<EventLoop> loops = new ArrayList<>(count);
        // a RESERVATION-TOKEN may come to another worker than the one that reserved the port: it adopts the socket
        ConcurrentHashMap<InetSocketAddress, DatagramChannel> reservedPorts = new ConcurrentHashMap<>();
        try {
            Listeners each = listeners;
            for (int i = 0; i < count; i++) {
                EventLoop loop = new EventLoop(
                        each.addresses(Listeners.Transport.UDP),
                        allocator,
                        options,
                        new KernelTransmitter(),
                        reservedPorts);
                loops.add(loop);
                loop.listenStreams(each, context, limits, proxy);
                if (i == 0) {
                    each = each.bound(loop.boundListeners()); // the others join the ports the first was given
                }
            }
        } catch (IOException | RuntimeException e) {
            loops.forEach(EventLoop::close);
            throw e;
        }
        return new Workers(loops);
    }

    int count() {
        return loops.size();
    }

    /** The first worker, for what they all have alike: the bound addresses, the receive mode, the buffers. */
    EventLoop first() {
        return loops.get(0);
    }

    /** Worker {@code index}, for tests that ask which worker has what. */
    EventLoop worker(int index) {
        return loops.get(index);
    }

    /** A core for each worker, from {@code configs} (one each, in order); call once, before {@link #start}. */
    void attach(List<RelayConfig> configs) {
        for (int i = 0; i < loops.size(); i++) {
            EventLoop loop = loops.get(i);
            loop.attach(new Relay(configs.get(i), loop.relaySockets(), quotas, reservations, livePorts));
        }
    }

    /**
     * Starts a thread for each worker. One that ends abnormally is recorded in {@code failure} and stops the
     * others, so that the process exits 1 rather than run on with some of its clients unserved.
     */
    void start(AtomicReference<Throwable> failure, Logger log) {
        for (int i = 0; i < loops.size(); i++) {
            EventLoop loop = loops.get(i);
            Runnable guarded = Turnpike.guarded(loop, failure, log);
            // A FastThreadLocalThread gets netty's thread-local buffer cache without a global setting.
            Thread thread = new FastThreadLocalThread(
                    () -> {
                        guarded.run();
                        if (failure.get() != null) {
                            stop();
                        }
                    },
                    loops.size() == 1 ? "turnpike-loop" : "turnpike-loop-" + i);
            threads.add(thread);
        }
        threads.forEach(Thread::start);
    }

    /** Waits for every worker's thread to end. */
    void join() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join();
        }
    }

    /** Asks every worker to stop; any thread. */
    void stop() {
        loops.forEach(EventLoop::stop);
    }

    /** A reload: each worker's core takes its own configuration of {@code configs}. */
    CompletableFuture<Void> reconfigure(List<RelayConfig> configs) {
        return each(i -> loops.get(i).reconfigure(configs.get(i)));
    }

    CompletableFuture<Void> reconfigureStreams(SSLContext context, StreamTransport.Limits limits) {
        return each(i -> loops.get(i).reconfigureStreams(context, limits));
    }

    /**
     * A drain on every worker. Each ends once no allocation is left on any worker (not only its own), so that no
     * listener leaves the SO_REUSEPORT group early: that would move other workers' clients to another worker.
     */
    CompletableFuture<Void> drain(List<InetSocketAddress> alternateServers, long timeoutNs) {
        return each(i -> loops.get(i).drain(alternateServers, timeoutNs));
    }

    /** Every worker's live allocations, taken by each at its next iteration. */
    CompletableFuture<List<AllocationSummary>> allocations() {
        List<CompletableFuture<List<AllocationSummary>>> each =
                loops.stream().map(EventLoop::allocations).toList();
        return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
                .thenApply(done -> each.stream().flatMap(f -> f.join().stream()).toList());
    }

    /** The workers' snapshots summed, with each one's kept for the per-worker series; null until all published. */
    Metrics.Snapshot published() {
        List<Metrics.Snapshot> each = new ArrayList<>(loops.size());
        for (EventLoop loop : loops) {
            Metrics.Snapshot snapshot = loop.published();
            if (snapshot == null) {
                return null;
            }
            each.add(snapshot);
        }
        return Metrics.Snapshot.sum(each);
    }

    /** The counters of every worker summed, read after {@link #join}: for the last log line. */
    Metrics.Snapshot finalCounters() {
        return Metrics.Snapshot.sum(loops.stream()
                .map(loop -> new Metrics.Snapshot(
                        loop.relay().counters().copy(), loop.counters().copy(), 0, 0, 0, List.of()))
                .toList());
    }

    private CompletableFuture<Void> each(IntFunction<CompletableFuture<Void>> task) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < loops.size(); i++) {
            all.add(task.apply(i));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }
}
