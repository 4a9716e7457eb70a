package dev.turnpike.daemon.loop;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.RelaySockets;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;

/**
 * The one thread with I/O, a duty cycle over small parts: read the clock once, {@link #doWork} (close released
 * relay sockets, run other threads' tasks, publish counters, run due timers, sweep the transports, flush the {@link
 * SendQueue}, then read), and, when a pass did nothing, {@link Idle} waits no longer than the core's next deadline
 * (for writability only while the queue stops reading). A full socket buffer therefore delays a packet instead of
 * dropping it. The parts: {@link Transports} (which {@link Transport} serves each listener: {@link
 * DatagramTransport} for UDP, the stream transport for TCP and TLS), the {@link SendQueue} (pending packets,
 * blocked sockets, the suspension rule), {@link CoreInput} (each input to the core, its decision carried out by the
 * {@link Courier}), the {@link RelaySocketTable} (relay sockets by port), {@link LoopControl} (other threads' door)
 * and the {@link Drain}.
 */
public final class EventLoop implements Runnable {
    private static final Logger log = LoopLog.LOG;
    /** How often the loop sweeps its transports (time-outs). */
    private static final long SWEEP_INTERVAL_NS = 1_000_000_000L;

    private static final List<Listeners.Kind> UDP = List.of(Listeners.Kind.UDP);

    private Relay relay;
    private final Selector readSelector;
    private final SendQueue sendQueue;
    /** UDP: the listening and relay sockets' datagrams, in batches where the platform allows. */
    private final DatagramTransport datagrams;
    /** Every transport, and which serves each listener number. */
    private final Transports transports;

    private long nextSweepNs;
    private final RelaySocketTable relaySockets;
    /** Each input to the core, and what it decided carried out (by the {@link Courier}). */
    private final CoreInput input;

    private final Courier courier;
    /** Reads and sets TOS bytes (--dscp-preserve), or null. */
    private final TrafficClass marks;

    private final LoopCounters counters = new LoopCounters();
    private final SocketOptions socketOptions;

    private volatile Function<EventLoop, ?> onIteration;
    /** Other threads' work, stop and clock moves: the loop's one door to them. */
    private final LoopControl control = new LoopControl(this::wakeup);

    private final Drain drain = new Drain();
    private final Idle idle;
    private long nowNs;
    private long epochSeconds;

    /** Binds the listening sockets. */
    public EventLoop(List<InetSocketAddress> listen, ByteBufAllocator allocator, SocketOptions socketOptions)
            throws IOException {
        this(listen, allocator, socketOptions, new KernelTransmitter(), new ConcurrentHashMap<>());
    }

    /**
     * One of several workers, which share the ports reserved for RESERVATION-TOKENs ({@link RelaySocketTable}); with
     * another {@link Transmitter} than the kernel's, for tests that fill and drain socket buffers on cue.
     */
    public EventLoop(
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
        this.idle = new Idle(readSelector, sendQueue, counters);
        UdpSockets sockets = new UdpSockets(readSelector, socketOptions, marks);
        this.relaySockets = new RelaySocketTable(sockets, counters, reservedPorts);
        Outbox out = new Outbox();
        this.transports = new Transports();
        this.courier = new Courier(out, sendQueue, relaySockets, transports, counters);
        this.input = new CoreInput(out, courier, counters);
        this.datagrams = new DatagramTransport(socketOptions, marks != null, sendQueue, sockets, counters, input);
        transports.datagrams(datagrams);
        try {
            transports.listen(Listeners.of(listen, List.of(), List.of(), java.util.Set.of()), UDP, () -> null);
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Binds the listeners of {@code listeners} of {@code kinds} (not UDP: this loop's already) by a transport that
     * {@code make} builds from the loop's parts, once; answers it, or null when none of them is of those kinds. Call
     * before {@link #boundListeners}.
     */
    public Transport listen(Listeners listeners, List<Listeners.Kind> kinds, Function<TransportContext, Transport> make)
            throws IOException {
        try {
            Transport made = transports.listen(
                    listeners,
                    kinds,
                    () -> make.apply(
                            new TransportContext(readSelector, counters, socketOptions.reusePort(), marks, input)));
            if (made != null && made.tcpRelaySockets() != null) {
                relaySockets.tcp(made.tcpRelaySockets());
                courier.tcp(made.tcpRelaySockets());
            }
            return made;
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * Runs {@code task} on the loop thread at its next iteration, with its clock: how other threads act on what the
     * loop owns (a transport's reload, say). Any thread; the loop wakes for it even while suspended.
     */
    public <T> CompletableFuture<T> submit(java.util.function.LongFunction<T> task) {
        return control.submit(task);
    }

    /** The bound listening addresses, in the order the core indexes them (ports resolved when 0 was asked). */
    public List<InetSocketAddress> boundListeners() throws IOException {
        return transports.boundAddresses();
    }

    /** The UDP transport, for the start-up log: how it receives, whether it keeps DSCP, the buffers granted. */
    public DatagramTransport datagrams() {
        return datagrams;
    }

    /** The relay sockets, opened when the core asks: what the core is built with. */
    public RelaySockets relaySockets() {
        return relaySockets;
    }

    /** The core this loop feeds; set once, after the sockets are bound and before {@link #run}. */
    public void attach(Relay relay) {
        this.relay = relay;
        input.attach(relay, datagrams.buffer());
    }

    public LoopCounters counters() {
        return counters;
    }

    /** The core, for its counters once the loop has ended. */
    public Relay relay() {
        return relay;
    }

    /** Packets waiting for room in a socket buffer; loop thread only (hooks, tests). */
    public int queuedPackets() {
        return sendQueue.queuedPackets();
    }

    /**
     * Whether the loop is holding input back: a batch read earlier still waits, or the queue stops reading (anything
     * queued with --suspend loop, --max-queued-bytes with --suspend flow). Loop thread only (hooks, tests).
     */
    public boolean suspended() {
        return !datagrams.mayRead();
    }

    /** The counters as of the loop's last publication (at most a second old while it runs); null before it runs. */
    public LoopSnapshot published() {
        return control.published();
    }

    /** For tests: moves the loop's monotonic and wall clocks ahead; timers and expiries follow. Any thread. */
    public void advanceClock(long nanoseconds) {
        control.advanceClock(nanoseconds);
    }

    /** Whether the send queue's books balance; loop thread only (tests check it every iteration). */
    public boolean queueConsistent() {
        return sendQueue.consistent();
    }

    /** For tests: called on the loop thread at the end of every iteration. */
    public void onIteration(Function<EventLoop, ?> hook) {
        this.onIteration = hook;
    }

    /**
     * A copy of the live allocations, taken by the loop at its next iteration (it owns them); safe from any thread.
     * The loop wakes for it even while suspended.
     */
    public CompletableFuture<List<AllocationSummary>> allocations() {
        return control.submit(relay::allocations);
    }

    /**
     * {@code listener} hears of allocations' events ({@code Command.AllocationEvent}) and of refused requests (a
     * {@code Command.SendToClient} with its refusal) on this loop's thread; set before it runs.
     */
    public void onCarriedOut(java.util.function.Consumer<dev.turnpike.core.Command> listener) {
        courier.listen(listener);
    }

    /**
     * Runs {@code action} on the core at the loop's next iteration and carries out what it decided (relay sockets
     * closed, lines logged); safe from any thread. Completes exceptionally if the core throws.
     */
    public <T> CompletableFuture<T> onCore(CoreAction<T> action) {
        return control.submit(nowNs -> input.act(action));
    }

    /**
     * A reload: the core takes {@code next} at the loop's next iteration, between two datagrams; safe from any
     * thread. Completes exceptionally if the core refuses it (it changes what takes a restart).
     */
    public CompletableFuture<Void> reconfigure(RelayConfig next) {
        return control.submit(nowNs -> {
            relay.reconfigure(next, nowNs);
            return null;
        });
    }

    /**
     * Starts a drain: no new allocation (see {@link Relay#drain}), and the loop ends by itself once the last
     * allocation has ended or {@code timeoutNs} has passed. Safe from any thread; a second call changes nothing.
     */
    public CompletableFuture<Void> drain(List<InetSocketAddress> alternateServers, long timeoutNs) {
        return control.submit(nowNs -> {
            drain.start(relay, alternateServers, timeoutNs, nowNs);
            return null;
        });
    }

    /** Asks the loop to stop; safe from any thread. */
    public void stop() {
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
            while (control.running() && !drain.over()) {
                long offsetNs = control.clockOffsetNs(); // the clocks, read once an iteration
                long now = System.nanoTime() + offsetNs;
                epochSeconds = System.currentTimeMillis() / 1000 + offsetNs / 1_000_000_000L;
                // after a wait that has just read, the sockets are not polled again before the next wait: the same
                // one syscall an iteration as a loop that only ever blocked
                int work = doWork(now, !justRead);
                justRead = work == 0 && !drain.over() && idle();
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
    public int doWork(long nowNs) throws IOException {
        if (epochSeconds == 0) {
            epochSeconds = System.currentTimeMillis() / 1000; // a test stepping the loop: the wall clock as it is
        }
        return doWork(nowNs, true);
    }

    private int doWork(long now, boolean poll) throws IOException {
        nowNs = now;
        input.clock(nowNs, epochSeconds);
        int work = 0;
        relaySockets.closeReleased(sendQueue, datagrams.held());
        work += control.runTasks(nowNs);
        if (drain.ends(relay, nowNs)) {
            return work + 1;
        }
        if (control.publicationDue(nowNs)) {
            control.publish(
                    new LoopSnapshot(
                            relay.counters().copy(),
                            counters.copy(),
                            queuedPackets(),
                            sendQueue.queuedBytes(),
                            nowNs,
                            List.of()),
                    nowNs);
        }
        if (relay.nextDeadlineNs() - nowNs <= 0) {
            input.runTimers(!sendQueue.isEmpty());
            work++;
        }
        if (nowNs - nextSweepNs >= 0) {
            transports.sweep(nowNs);
            nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
        }
        work += input.endClosedStreams();
        transports.endOfPass(nowNs); // what timers and other threads' tasks sent to stream clients
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
            work += input.endClosedStreams();
            transports.endOfPass(nowNs);
        }
        return work;
    }

    /** Waits, no longer than the core's next deadline or the drain's ({@link Idle}); whether it handled input. */
    private boolean idle() throws IOException {
        boolean read = idle.await(nowNs, drain.earlier(relay.nextDeadlineNs()), this::onReady);
        input.endClosedStreams();
        transports.endOfPass(nowNs);
        return read;
    }

    /** A datagram socket or a stream's key is ready: a stream waits while the loop may not read. */
    private void onReady(SelectionKey key) {
        transports.onReady(key, nowNs);
    }

    /** Closes every socket; the loop's own end does it, and {@code Workers} for a loop that never ran. */
    public void close() {
        transports.close();
        input.forgetClosedStreams(); // the relay is stopping: nothing to end but the sockets
        sendQueue.close();
        relaySockets.closeAll();
        try {
            readSelector.close();
        } catch (IOException e) {
            log.atDebug().setCause(e).log("close failed");
        }
    }
}
