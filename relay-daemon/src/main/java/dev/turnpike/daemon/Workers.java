package dev.turnpike.daemon;

import dev.turnpike.core.AllocationQuotas;
import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.LiveRelayPorts;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.Reservations;
import dev.turnpike.daemon.dtls.DtlsSettings;
import dev.turnpike.daemon.dtls.DtlsTransport;
import dev.turnpike.daemon.loop.EventLoop;
import dev.turnpike.daemon.loop.HeldPorts;
import dev.turnpike.daemon.loop.KernelTransmitter;
import dev.turnpike.daemon.loop.Listeners;
import dev.turnpike.daemon.loop.LoopSnapshot;
import dev.turnpike.daemon.loop.SocketOptions;
import dev.turnpike.daemon.stream.HandOff;
import dev.turnpike.daemon.stream.HttpsBackend;
import dev.turnpike.daemon.stream.ProxyProtocol;
import dev.turnpike.daemon.stream.StreamLimits;
import dev.turnpike.daemon.stream.StreamTransport;
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
public final class Workers {
    private static final List<Listeners.Kind> STREAMS = List.of(Listeners.Kind.TCP, Listeners.Kind.TLS);
    private static final List<Listeners.Kind> DTLS = List.of(Listeners.Kind.DTLS);

    private final List<EventLoop> loops;
    /** Each worker's TCP and TLS transport, by worker (null without a stream listener). */
    private final List<StreamTransport> streams;
    /** Each worker's DTLS transport, by worker (null without a DTLS listener). */
    private final List<DtlsTransport> dtls;

    private final List<Thread> threads = new ArrayList<>();
    private final AllocationQuotas quotas;
    private final Reservations reservations;
    private final LiveRelayPorts livePorts;

    private Workers(List<EventLoop> loops, List<StreamTransport> streams, List<DtlsTransport> dtls) {
        this.loops = List.copyOf(loops);
        this.streams = java.util.Collections.unmodifiableList(new ArrayList<>(streams));
        this.dtls = java.util.Collections.unmodifiableList(new ArrayList<>(dtls));
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
            DtlsSettings dtlsSettings,
            StreamLimits limits,
            ProxyProtocol proxy,
            HttpsBackend backend,
            ByteBufAllocator allocator,
            SocketOptions options)
            throws IOException {
        HeldPorts.refuse(listeners);
        List<EventLoop> loops = new ArrayList<>(count);
        List<StreamTransport> streams = new ArrayList<>(count);
        List<DtlsTransport> dtls = new ArrayList<>(count);
        // a RESERVATION-TOKEN may come to another worker than the one that reserved the port: it adopts the socket
        ConcurrentHashMap<InetSocketAddress, DatagramChannel> reservedPorts = new ConcurrentHashMap<>();
        // a ConnectionBind (RFC 6062) may come to another worker than the one holding its peer connection
        HandOff handOff = new HandOff(count);
        try {
            Listeners each = listeners;
            for (int i = 0; i < count; i++) {
                int worker = i;
                EventLoop loop = new EventLoop(
                        each.addresses(Listeners.Kind.UDP), allocator, options, new KernelTransmitter(), reservedPorts);
                loops.add(loop);
                streams.add((StreamTransport) loop.listen(
                        each,
                        STREAMS,
                        parts -> new StreamTransport(parts, limits, proxy, context, backend, handOff, worker)));
                dtls.add((DtlsTransport)
                        loop.listen(each, DTLS, parts -> new DtlsTransport(parts, dtlsSettings, limits)));
                if (i == 0) {
                    each = each.bound(loop.boundListeners()); // the others join the ports the first was given
                }
            }
        } catch (IOException | RuntimeException e) {
            loops.forEach(EventLoop::close);
            throw e;
        }
        return new Workers(loops, streams, dtls);
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

    /** {@code listener} hears of every worker's allocation events and refusals, on its thread; before they start. */
    void onCarriedOut(java.util.function.Consumer<dev.turnpike.core.Command> listener) {
        loops.forEach(loop -> loop.onCarriedOut(listener));
    }

    /**
     * The revocations the state file kept, for every worker's core before its thread starts (no allocation yet:
     * nothing to end, nothing to carry out).
     */
    void revokeBeforeStart(java.util.Map<String, Long> revocations) {
        long epochSeconds = System.currentTimeMillis() / 1000;
        for (EventLoop loop : loops) {
            revocations.forEach((name, until) ->
                    loop.relay().revoke(name, until, epochSeconds, System.nanoTime(), new dev.turnpike.core.Outbox()));
        }
    }

    /**
     * Starts a thread for each worker. One that ends abnormally is recorded in {@code failure} and stops the
     * others, so that the process exits 1 rather than run on with some of its clients unserved.
     */
    void start(AtomicReference<Throwable> failure, Logger log) {
        for (int i = 0; i < loops.size(); i++) {
            EventLoop loop = loops.get(i);
            Runnable guarded = guarded(loop, failure, log);
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

    /**
     * A reload: new TLS certificates for connections accepted from now on (those open keep theirs), and new stream
     * limits, each worker's on its own thread.
     */
    CompletableFuture<Void> reconfigureStreams(SSLContext context, DtlsSettings dtlsSettings, StreamLimits limits) {
        return each(i -> loops.get(i).submit(nowNs -> {
            if (streams.get(i) != null) {
                streams.get(i).reconfigure(context, limits, nowNs);
            }
            if (dtls.get(i) != null) {
                dtls.get(i).reconfigure(dtlsSettings, limits, nowNs);
            }
            return null;
        }));
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
    LoopSnapshot published() {
        List<LoopSnapshot> each = new ArrayList<>(loops.size());
        for (EventLoop loop : loops) {
            LoopSnapshot snapshot = loop.published();
            if (snapshot == null) {
                return null;
            }
            each.add(snapshot);
        }
        return LoopSnapshot.sum(each);
    }

    /** The counters of every worker summed, read after {@link #join}: for the last log line. */
    LoopSnapshot finalCounters() {
        return LoopSnapshot.sum(loops.stream()
                .map(loop -> new LoopSnapshot(
                        loop.relay().counters().copy(), loop.counters().copy(), 0, 0, 0, List.of()))
                .toList());
    }

    /** Ends allocation {@code id} on whichever worker holds it (ids are distinct across workers): whether one did. */
    CompletableFuture<Boolean> endAllocation(long id) {
        return sum(loop ->
                        loop.onCore((relay, nowNs, epochSeconds, out) -> relay.endAllocation(id, nowNs, out) ? 1 : 0))
                .thenApply(ended -> ended > 0);
    }

    /** Revokes {@code name} until {@code untilEpochSeconds} on every worker; answers how many allocations ended. */
    CompletableFuture<Integer> revoke(String name, long untilEpochSeconds) {
        return sum(loop -> loop.onCore(
                (relay, nowNs, epochSeconds, out) -> relay.revoke(name, untilEpochSeconds, epochSeconds, nowNs, out)));
    }

    /** Lifts the revocation of {@code name} on every worker. */
    CompletableFuture<Integer> liftRevocation(String name) {
        return sum(loop -> loop.onCore((relay, nowNs, epochSeconds, out) -> relay.liftRevocation(name) ? 1 : 0));
    }

    private CompletableFuture<Integer> sum(java.util.function.Function<EventLoop, CompletableFuture<Integer>> task) {
        List<CompletableFuture<Integer>> all = loops.stream().map(task).toList();
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new))
                .thenApply(
                        done -> all.stream().mapToInt(CompletableFuture::join).sum());
    }

    private CompletableFuture<Void> each(IntFunction<CompletableFuture<Void>> task) {
        List<CompletableFuture<Void>> all = new ArrayList<>();
        for (int i = 0; i < loops.size(); i++) {
            all.add(task.apply(i));
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    }

    /**
     * The loop as the thread runs it: whatever ends it abnormally, an Error too (say a NoSuchMethodError from a
     * mismatched jar, or OutOfMemoryError), is recorded so that the process exits 1 instead of reporting a clean
     * stop. The loop logs its own exceptions; an Error is logged here.
     */
    static Runnable guarded(Runnable loop, AtomicReference<Throwable> failure, Logger log) {
        return () -> {
            try {
                loop.run();
            } catch (RuntimeException e) {
                failure.set(e);
            } catch (Error e) {
                failure.set(e);
                log.atError().setCause(e).log("event loop died");
            }
        };
    }
}
