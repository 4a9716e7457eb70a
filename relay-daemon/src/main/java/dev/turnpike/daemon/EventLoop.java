package dev.turnpike.daemon;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.core.RelaySockets;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread with I/O, a duty cycle over small parts: read the clock once, {@link #doWork} (close released
 * relay sockets, publish counters, run due timers, flush the {@link SendQueue}, then read or, while anything is
 * queued, wait only for writability), and sleep no longer than the core's next deadline. A full socket buffer
 * therefore delays a packet instead of dropping it. The parts: the {@link SendQueue} (pending packets, blocked
 * sockets, the write selector, the suspension rule), the {@link DatagramTransport} (UDP input: recvmmsg batches,
 * a batch held at the queue's bound), the {@link StreamTransport} (TCP and TLS), the {@link Courier} (what the core
 * decided, carried out), the {@link RelaySocketTable} (relay sockets by port) and {@link UdpSockets} (how every
 * socket is opened).
 */
final class EventLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static final long MAX_WAIT_MS = 1_000;
    /** How often the loop copies its counters out for other threads (metrics): a few objects a second. */
    private static final long PUBLISH_INTERVAL_NS = 1_000_000_000L;

    private Relay relay;
    private final Selector readSelector;
    private final SendQueue sendQueue;
    private final UdpSockets sockets;
    private final List<UdpSocket> listeners = new ArrayList<>();
    /** TCP and TLS listeners and their connections; null until {@link #listenStreams}. */
    private StreamTransport streams;
    /** Connections closed while their commands were being carried out: their allocations end at a safe point. */
    private final java.util.ArrayDeque<StreamConnection> closedStreams = new java.util.ArrayDeque<>();

    private long nextStreamSweepNs;
    private final RelaySocketTable relaySockets;
    /** UDP input: the listening and relay sockets' datagrams, in batches where the platform allows. */
    private final DatagramTransport datagrams;

    private final Outbox out = new Outbox();
    /** Carries out what the core put in {@link #out}. */
    private final Courier courier;
    /** Reads and sets TOS bytes (--dscp-preserve), or null. */
    private final TrafficClass marks;

    private final LoopCounters counters = new LoopCounters();
    private final RepeatedWarnings warnings = new RepeatedWarnings();
    private final SocketOptions socketOptions;

    private volatile Function<EventLoop, ?> onIteration;
    /** Other threads' work, stop and clock moves: the loop's one door to them. */
    private final LoopControl control = new LoopControl(this::wakeup);
    /** Draining: the loop ends once no allocation is left, or at this deadline. */
    private boolean draining;
    /** The drain is over: the loop ends. */
    private boolean drained;

    private long drainDeadlineNs;

    private volatile Metrics.Snapshot published;
    private long publishedAtNs;
    private long nowNs;
    private long epochSeconds;

    /** Binds the listening sockets. */
    EventLoop(List<InetSocketAddress> listen, ByteBufAllocator allocator, SocketOptions socketOptions)
            throws IOException {
        this(listen, allocator, socketOptions, new KernelTransmitter());
    }

    /** With another {@link Transmitter} than the kernel's: for tests that fill and drain socket buffers on cue. */
    EventLoop(
            List<InetSocketAddress> listen,
            ByteBufAllocator allocator,
            SocketOptions socketOptions,
            Transmitter transmitter)
            throws IOException {
        this(listen, allocator, socketOptions, transmitter, new ConcurrentHashMap<>());
    }

    /** One of several workers, which share the ports reserved for RESERVATION-TOKENs ({@link RelaySocketTable}). */
    EventLoop(
            List<InetSocketAddress> listen,
            ByteBufAllocator allocator,
            SocketOptions socketOptions,
            Transmitter transmitter,
            ConcurrentHashMap<InetSocketAddress, DatagramChannel> reservedPorts)
            throws IOException {
        this.socketOptions = socketOptions;
        this.readSelector = Selector.open();
        this.marks = socketOptions.keepTrafficClass() && socketOptions.batchedReceive() && TrafficClass.available()
                ? new TrafficClass()
                : null;
        this.sendQueue = new SendQueue(
                allocator,
                transmitter,
                counters,
                socketOptions.dropWhenFull(),
                socketOptions.maxQueuedBytes(),
                socketOptions.suspendOnAnyQueued(),
                marks);
        this.datagrams = new DatagramTransport(
                socketOptions, marks != null, sendQueue, counters, new DatagramTransport.Delivery() {
                    @Override
                    public void datagram(
                            UdpSocket socket,
                            InetSocketAddress source,
                            ByteBuffer buffer,
                            int offset,
                            int length,
                            int trafficClass) {
                        dispatch(socket, source, buffer, offset, length, trafficClass);
                    }

                    @Override
                    public void malformed() {
                        counters.datagramsReceived++;
                        relay.counters().drop(RelayCounters.Drop.MALFORMED);
                    }
                });
        this.sockets = new UdpSockets(readSelector, socketOptions, marks);
        this.relaySockets = new RelaySocketTable(sockets, counters, reservedPorts);
        this.courier = new Courier(out, sendQueue, relaySockets, listeners, counters);
        try {
            for (int i = 0; i < listen.size(); i++) {
                InetSocketAddress address = listen.get(i);
                DatagramChannel channel = sockets.open(address);
                try {
                    if (socketOptions.reusePort()) {
                        channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
                    }
                    channel.bind(address);
                } catch (IOException e) {
                    channel.close();
                    throw new IOException("cannot listen on " + Addresses.format(address) + ": " + e.getMessage(), e);
                }
                listeners.add(sockets.register(channel, i, null));
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Binds the TCP and TLS listeners of {@code listeners} (TLS with {@code context}), each under its index; the UDP
     * ones are this loop's already. Call once, before {@link #boundListeners}.
     */
    void listenStreams(
            Listeners listeners,
            javax.net.ssl.SSLContext context,
            StreamTransport.Limits limits,
            StreamTransport.ProxyProtocol proxy)
            throws IOException {
        if (listeners.count() == this.listeners.size()) {
            return; // UDP only
        }
        streams = new StreamTransport(
                readSelector,
                counters,
                limits,
                socketOptions.reusePort(),
                proxy,
                marks,
                new StreamTransport.Delivery() {
                    @Override
                    public void message(StreamConnection connection, ByteBuffer buffer, int offset, int length) {
                        dispatchStream(connection, buffer, offset, length);
                    }

                    @Override
                    public void closed(StreamConnection connection) {
                        closedStreams.add(connection);
                    }
                });
        courier.streams(streams);
        try {
            for (Listeners.Listener l : listeners.all()) {
                if (l.transport() != Listeners.Transport.UDP) {
                    streams.listen(
                            l.address(),
                            l.index(),
                            l.transport() == Listeners.Transport.TLS ? context : null,
                            l.proxied());
                }
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * A reload: new TLS certificates for connections accepted from now on (those open keep theirs), and new
     * stream limits. Any thread.
     */
    CompletableFuture<Void> reconfigureStreams(javax.net.ssl.SSLContext context, StreamTransport.Limits limits) {
        return control.submit(nowNs -> {
            if (streams != null) {
                streams.reconfigure(context, limits, nowNs);
            }
            return null;
        });
    }

    /** The bound listening addresses, in the order the core indexes them (ports resolved when 0 was asked). */
    List<InetSocketAddress> boundListeners() throws IOException {
        List<InetSocketAddress> bound = new ArrayList<>();
        for (UdpSocket socket : listeners) {
            bound.add((InetSocketAddress) socket.channel.getLocalAddress());
        }
        if (streams != null) {
            for (StreamTransport.Listener listener : streams.listeners()) {
                bound.add((InetSocketAddress) listener.server.getLocalAddress());
            }
        }
        return bound;
    }

    /** How datagrams are received, for the start-up log. */
    String receiveMode() {
        return datagrams.receiveMode();
    }

    /** Whether DSCP and ECN are kept (--dscp-preserve), or why not, for the start-up log. */
    String trafficClassMode() {
        if (!socketOptions.keepTrafficClass()) {
            return "off";
        }
        if (!datagrams.readsTrafficClass()) {
            return "unavailable: "
                    + (TrafficClass.available() ? "batched receive off" : TrafficClass.UNAVAILABLE_BECAUSE);
        }
        return "on";
    }

    /** The receive buffer the kernel actually granted a listening socket (Linux reports twice the usable size). */
    int effectiveReceiveBuffer() throws IOException {
        return listeners.isEmpty() ? 0 : listeners.get(0).channel.getOption(StandardSocketOptions.SO_RCVBUF);
    }

    /** The relay sockets, opened when the core asks: what the core is built with. */
    RelaySockets relaySockets() {
        return relaySockets;
    }

    /** The core this loop feeds; set once, after the sockets are bound and before {@link #run}. */
    void attach(Relay relay) {
        this.relay = relay;
    }

    LoopCounters counters() {
        return counters;
    }

    /** The core, for its counters once the loop has ended. */
    Relay relay() {
        return relay;
    }

    /** Packets waiting for room in a socket buffer; loop thread only (hooks, tests). */
    int queuedPackets() {
        return sendQueue.queuedPackets();
    }

    /** Whether the loop is holding input back because packets are queued; loop thread only (hooks, tests). */
    boolean suspended() {
        return !mayRead();
    }

    /** The counters as of the loop's last publication (at most a second old while it runs); null before it runs. */
    Metrics.Snapshot published() {
        return published;
    }

    private void publish() {
        published = new Metrics.Snapshot(
                relay.counters().copy(), counters.copy(), queuedPackets(), sendQueue.queuedBytes(), nowNs, List.of());
        publishedAtNs = nowNs;
    }

    /** For tests: moves the loop's monotonic and wall clocks ahead; timers and expiries follow. Any thread. */
    void advanceClock(long nanoseconds) {
        control.advanceClock(nanoseconds);
    }

    /** Whether the send queue's books balance; loop thread only (tests check it every iteration). */
    boolean queueConsistent() {
        return sendQueue.consistent();
    }

    /** For tests: called on the loop thread at the end of every iteration. */
    void onIteration(Function<EventLoop, ?> hook) {
        this.onIteration = hook;
    }

    /**
     * A copy of the live allocations, taken by the loop at its next iteration (it owns them); safe from any thread.
     * The loop wakes for it even while suspended.
     */
    CompletableFuture<List<AllocationSummary>> allocations() {
        return control.submit(relay::allocations);
    }

    /**
     * A reload: the core takes {@code next} at the loop's next iteration, between two datagrams; safe from any
     * thread. Completes exceptionally if the core refuses it (it changes what takes a restart).
     */
    CompletableFuture<Void> reconfigure(RelayConfig next) {
        return control.submit(nowNs -> {
            relay.reconfigure(next, nowNs);
            return null;
        });
    }

    /**
     * Starts a drain: no new allocation (see {@link Relay#drain}), and the loop ends by itself once the last
     * allocation has ended or {@code timeoutNs} has passed. Safe from any thread; a second call changes nothing.
     */
    CompletableFuture<Void> drain(List<InetSocketAddress> alternateServers, long timeoutNs) {
        return control.submit(nowNs -> {
            if (!draining) {
                relay.drain(alternateServers);
                draining = true;
                drainDeadlineNs = nowNs + timeoutNs;
            }
            return null;
        });
    }

    /** Asks the loop to stop; safe from any thread. */
    void stop() {
        control.stop();
    }

    /** Ends the loop's wait, on either selector. */
    private void wakeup() {
        readSelector.wakeup();
        sendQueue.wakeup();
    }

    // ---------------------------------------------------------------------------------------------------
    // The loop

    @Override
    public void run() {
        try {
            boolean justRead = false;
            while (control.running() && !drained) {
                long offsetNs = control.clockOffsetNs(); // the clocks, read once an iteration
                long now = System.nanoTime() + offsetNs;
                epochSeconds = System.currentTimeMillis() / 1000 + offsetNs / 1_000_000_000L;
                // after a wait that has just read, the sockets are not polled again before the next wait: the same
                // one syscall an iteration as a loop that only ever blocked
                int work = doWork(now, !justRead);
                justRead = work == 0 && !drained && idle();
                counters.iterations++;
                Function<EventLoop, ?> hook = onIteration;
                if (hook != null) {
                    hook.apply(this);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.atError().setCause(e).log("event loop failed");
            throw new IllegalStateException("event loop failed", e);
        } finally {
            close();
        }
    }

    /**
     * One pass of the duty cycle at {@code nowNs}, which never blocks: other threads' tasks, the drain, the
     * counters' publication, due timers, the stream sweep, the flush, a held batch, and whatever the sockets have
     * ready. Answers how much it did (0: nothing; {@link #run} then waits). Tests step the loop with it on their own
     * thread, the loop not running.
     */
    int doWork(long nowNs) throws IOException {
        if (epochSeconds == 0) {
            epochSeconds = System.currentTimeMillis() / 1000; // a test stepping the loop: the wall clock as it is
        }
        return doWork(nowNs, true);
    }

    private int doWork(long now, boolean poll) throws IOException {
        nowNs = now;
        int work = 0;
        relaySockets.closeReleased(sendQueue, datagrams.held());
        work += control.runTasks(nowNs);
        // every worker's allocations: one that ended early would leave the SO_REUSEPORT group and move others' clients
        if (draining && (relay.allocationsCounted() == 0 || nowNs - drainDeadlineNs >= 0)) {
            log.atInfo()
                    .addKeyValue("allocationsLeft", relay.allocationCount())
                    .log(relay.allocationsCounted() == 0 ? "drained" : "drain timed out");
            drained = true;
            return work + 1;
        }
        if (published == null || nowNs - publishedAtNs >= PUBLISH_INTERVAL_NS) {
            publish();
        }
        if (relay.nextDeadlineNs() - nowNs <= 0) {
            runTimers();
            work++;
        }
        if (streams != null && nowNs - nextStreamSweepNs >= 0) {
            streams.sweep(nowNs);
            nextStreamSweepNs = nowNs + PUBLISH_INTERVAL_NS;
        }
        work += endClosedStreams();
        int queued = sendQueue.queuedPackets();
        sendQueue.flush(nowNs);
        work += queued - sendQueue.queuedPackets();
        if (sendQueue.stopsReading()) {
            return work; // nothing more may be read: the wait is for writability
        }
        if (datagrams.held() != null) {
            datagrams.resumeHeldBatch(); // room in the queue: the rest of a batch read earlier comes first
            return work + 1;
        }
        if (datagrams.passedOverWaiting()) {
            work += datagrams.readPassedOver(); // then the sockets that were ready while reading was stopped
        }
        if (poll) {
            work += readSelector.selectNow(this::onReady);
            work += endClosedStreams();
        }
        return work;
    }

    /**
     * Waits no longer than the core's next deadline: for writability while the queue stops reading (suspended),
     * else for input, which it handles as it arrives (with --suspend flow a blocked socket's writability wakes it
     * too). Answers whether it handled input.
     */
    private boolean idle() throws IOException {
        if (sendQueue.stopsReading()) {
            awaitWritability();
            return false;
        }
        int ready = readSelector.select(this::onReady, waitMs());
        endClosedStreams();
        return ready > 0;
    }

    /** A datagram socket or a stream's key is ready. */
    private void onReady(SelectionKey key) {
        if (key.attachment() instanceof UdpSocket) {
            datagrams.onReadable(key);
        } else if (mayRead()) {
            try {
                streams.onReady(key, nowNs);
            } catch (RuntimeException e) {
                // a bug on one connection costs that connection, never the loop
                counters.internalErrors++;
                logError("internal error on a connection", e);
                if (key.attachment() instanceof StreamConnection c) {
                    streams.close(c, LoopCounters.StreamClose.ERROR);
                }
            }
        }
    }

    /** The allocations of connections that closed end now, outside the handling of any other input. */
    private int endClosedStreams() {
        int ended = 0;
        for (StreamConnection c = closedStreams.poll(); c != null; c = closedStreams.poll()) {
            ended++;
            try {
                out.clear();
                relay.onClientClosed(nowNs, c.listener, c.client, out);
                courier.carry(datagrams.buffer(), null, nowNs, 0);
            } catch (RuntimeException e) {
                counters.internalErrors++;
                logError("internal error ending a connection's allocation", e);
            }
        }
        return ended;
    }

    /** A message framed on a stream: to the core as a datagram from that client on that listener. */
    private void dispatchStream(StreamConnection connection, ByteBuffer buffer, int offset, int length) {
        try {
            out.clear();
            relay.onClientDatagram(
                    nowNs, epochSeconds, connection.listener, connection.client, buffer, offset, length, out);
            courier.carry(buffer, null, nowNs, connection.trafficClass);
        } catch (RuntimeException e) {
            counters.internalErrors++;
            logError("internal error handling a datagram", e);
        }
    }

    /**
     * Suspended: some socket's buffer is full. Read nothing until every queued packet is out; timers and stop()
     * still end this wait.
     */
    private void awaitWritability() throws IOException {
        long suspendedAt = System.nanoTime();
        counters.suspendedWaits++;
        if (sendQueue.awaitWritable(waitMs())) {
            counters.suspendedWakeupsByWritability++;
        }
        counters.suspendedNs += System.nanoTime() - suspendedAt;
    }

    private void runTimers() {
        counters.timerRuns++;
        if (!sendQueue.isEmpty()) {
            counters.timerRunsWhileSuspended++;
        }
        try {
            out.clear();
            relay.onTimer(nowNs, out);
            courier.carry(datagrams.buffer(), null, nowNs, 0);
        } catch (RuntimeException e) {
            // as for a datagram: a bug in the core costs this sweep, never the loop
            counters.internalErrors++;
            logError("internal error running timers", e);
        }
    }

    /**
     * How long the select may sleep: until the core's next deadline, measured from the clock read at the top of
     * this iteration (the loop reads the clock once an iteration; the work since then makes a timer at most that
     * much late).
     */
    private long waitMs() {
        long deadline = relay.nextDeadlineNs();
        if (draining && drainDeadlineNs - deadline < 0) {
            deadline = drainDeadlineNs;
        }
        if (deadline == Long.MAX_VALUE) {
            return MAX_WAIT_MS;
        }
        long ms = (deadline - nowNs) / 1_000_000 + 1;
        return Math.max(1, Math.min(MAX_WAIT_MS, ms));
    }

    /**
     * Whether the loop may take in more input: no batch read earlier still waiting, and nothing queued (--suspend
     * loop) or less than --max-queued-bytes queued (--suspend flow).
     */
    private boolean mayRead() {
        return datagrams.mayRead();
    }

    private void dispatch(
            UdpSocket socket, InetSocketAddress source, ByteBuffer buffer, int offset, int length, int trafficClass) {
        counters.datagramsReceived++;
        buffer.limit(buffer.capacity());
        try {
            out.clear();
            if (socket.relay == null) {
                relay.onClientDatagram(nowNs, epochSeconds, socket.listener, source, buffer, offset, length, out);
            } else {
                relay.onPeerDatagram(nowNs, socket.relay, source, buffer, offset, length, out);
            }
            courier.carry(buffer, socket, nowNs, trafficClass);
        } catch (RuntimeException e) {
            // The core must not throw; if it ever does, that datagram is lost but the relay is not.
            counters.internalErrors++;
            logError("internal error handling a datagram", e);
        }
    }

    /** An error a datagram may cause again and again: logged, but not in bursts (see {@link RepeatedWarnings}). */
    private void logError(String message, RuntimeException e) {
        long held = warnings.admit(message, nowNs);
        if (held >= 0) {
            log.atError().addKeyValue("heldBack", held).setCause(e).log(message);
        }
    }

    /** Closes every socket; the loop's own end does it, and {@link Workers} for a loop that never ran. */
    void close() {
        if (streams != null) {
            streams.closeAll();
            closedStreams.clear(); // the relay is stopping: nothing to end but the sockets
        }
        sendQueue.close();
        List<UdpSocket> all = new ArrayList<>(listeners);
        relaySockets.forEach(all::add);
        relaySockets.closeReserved();
        for (UdpSocket socket : all) {
            try {
                socket.channel.close();
            } catch (IOException e) {
                log.atDebug().setCause(e).log("close failed");
            }
        }
        try {
            readSelector.close();
        } catch (IOException e) {
            log.atDebug().setCause(e).log("close failed");
        }
    }
}
