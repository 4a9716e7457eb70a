package dev.turnpike.daemon;

import dev.turnpike.core.Command;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.core.RelayEndpoint;
import dev.turnpike.core.RelaySockets;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import jdk.net.ExtendedSocketOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread with I/O. Each iteration: read the clock, run due timers, flush queued packets, then either
 * read (every queue empty) or wait only for the sockets with queued packets to become writable (suspended). A
 * full socket buffer therefore delays a packet instead of dropping it.
 *
 * <p>Two selectors, because NIO selectors are level-triggered: waiting for writability on the read selector
 * would return at once for every readable socket, and leaving write interest on an idle socket would spin.
 * The write selector holds only sockets with queued packets, and only while they have them.
 */
final class EventLoop implements Runnable, RelaySockets {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    /** Room in front of a received datagram for a header written in place (ChannelData, Data indication). */
    static final int HEADROOM = 64;

    private static final int MAX_DATAGRAM = 65_535;
    /** Datagrams read from one socket per wake-up, so one busy socket cannot starve the others. */
    private static final int READ_BUDGET = 64;

    private static final long MAX_WAIT_MS = 1_000;
    /** How often the loop copies its counters out for other threads (metrics): a few objects a second. */
    private static final long PUBLISH_INTERVAL_NS = 1_000_000_000L;

    private Relay relay;
    private final Selector readSelector;
    private final Selector writeSelector;
    private final ByteBufAllocator allocator;
    private final List<UdpSocket> listeners = new ArrayList<>();
    /** Relay sockets by port, one table per family: the core names an endpoint, the port finds its socket. */
    private final UdpSocket[] ipv4Relays = new UdpSocket[65_536];

    private final UdpSocket[] ipv6Relays = new UdpSocket[65_536];
    private final ArrayDeque<UdpSocket> blocked = new ArrayDeque<>();
    private final List<UdpSocket> closing = new ArrayList<>();
    private final ByteBuffer receive = ByteBuffer.allocateDirect(HEADROOM + MAX_DATAGRAM + Relay.TAILROOM + 1);
    /** recvmmsg batches, or null where unavailable (then {@link #receive} and the JDK are used). */
    private final BatchReceiver batch;

    private final Outbox out = new Outbox();
    private final LoopCounters counters = new LoopCounters();
    private final SocketOptions socketOptions;
    private final boolean dontFragmentSupported;
    private volatile boolean running = true;
    private volatile Function<EventLoop, ?> onIteration;
    private volatile Metrics.Snapshot published;
    private long publishedAtNs;
    private long nowNs;
    private long epochSeconds;

    /** Binds the listening sockets. */
    EventLoop(List<InetSocketAddress> listen, ByteBufAllocator allocator, SocketOptions socketOptions)
            throws IOException {
        this.allocator = allocator;
        this.socketOptions = socketOptions;
        this.batch = socketOptions.batchedReceive() && BatchReceiver.AVAILABLE
                ? new BatchReceiver(HEADROOM, Relay.TAILROOM, new AddressCache(1 << 14))
                : null;
        this.readSelector = Selector.open();
        this.writeSelector = Selector.open();
        try {
            for (int i = 0; i < listen.size(); i++) {
                InetSocketAddress address = listen.get(i);
                DatagramChannel channel = open(address);
                try {
                    channel.bind(address);
                } catch (IOException e) {
                    channel.close();
                    throw new IOException("cannot listen on " + Addresses.format(address) + ": " + e.getMessage(), e);
                }
                listeners.add(register(channel, i, null));
            }
            this.dontFragmentSupported = probeDontFragment();
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private DatagramChannel open(InetSocketAddress address) throws IOException {
        DatagramChannel channel = DatagramChannel.open(
                address.getAddress() instanceof Inet6Address
                        ? StandardProtocolFamily.INET6
                        : StandardProtocolFamily.INET);
        if (socketOptions.receiveBytes() > 0) {
            channel.setOption(StandardSocketOptions.SO_RCVBUF, socketOptions.receiveBytes());
        }
        if (socketOptions.sendBytes() > 0) {
            channel.setOption(StandardSocketOptions.SO_SNDBUF, socketOptions.sendBytes());
        }
        return channel;
    }

    private static boolean probeDontFragment() {
        try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET)) {
            return probe.supportedOptions().contains(ExtendedSocketOptions.IP_DONTFRAGMENT);
        } catch (IOException e) {
            return false;
        }
    }

    private UdpSocket register(DatagramChannel channel, int listener, RelayEndpoint relayEndpoint) throws IOException {
        channel.configureBlocking(false);
        UdpSocket socket = new UdpSocket(channel, listener, relayEndpoint);
        if (batch != null) {
            socket.fd = BatchReceiver.fd(channel);
        }
        socket.readKey = channel.register(readSelector, SelectionKey.OP_READ, socket);
        return socket;
    }

    /** The bound listening addresses, in the order the core indexes them (ports resolved when 0 was asked). */
    List<InetSocketAddress> boundListeners() throws IOException {
        List<InetSocketAddress> bound = new ArrayList<>();
        for (UdpSocket socket : listeners) {
            bound.add((InetSocketAddress) socket.channel.getLocalAddress());
        }
        return bound;
    }

    /** How datagrams are received, for the start-up log. */
    String receiveMode() {
        return batch != null
                ? "recvmmsg, up to " + BatchReceiver.SLOTS + " datagrams a call"
                : "one datagram a call ("
                        + (socketOptions.batchedReceive() ? BatchReceiver.UNAVAILABLE_BECAUSE : "batching off") + ")";
    }

    /** The receive buffer the kernel actually granted a listening socket (Linux reports twice the usable size). */
    int effectiveReceiveBuffer() throws IOException {
        return listeners.isEmpty() ? 0 : listeners.get(0).channel.getOption(StandardSocketOptions.SO_RCVBUF);
    }

    /** The core this loop feeds; set once, after the sockets are bound and before {@link #run}. */
    void attach(Relay relay) {
        this.relay = relay;
    }

    LoopCounters counters() {
        return counters;
    }

    /** Packets waiting for room in a socket buffer; loop thread only (hooks, tests). */
    int queuedPackets() {
        int n = 0;
        for (UdpSocket socket : blocked) {
            n += socket.pending.size();
        }
        return n;
    }

    /** The counters as of the loop's last publication (at most a second old while it runs); null before it runs. */
    Metrics.Snapshot published() {
        return published;
    }

    private void publish() {
        published = new Metrics.Snapshot(relay.counters().copy(), counters.copy(), queuedPackets(), nowNs);
        publishedAtNs = nowNs;
    }

    /** For tests: called on the loop thread at the end of every iteration. */
    void onIteration(Function<EventLoop, ?> hook) {
        this.onIteration = hook;
    }

    /** Asks the loop to stop; safe from any thread. */
    void stop() {
        running = false;
        readSelector.wakeup();
        writeSelector.wakeup();
    }

    // ---------------------------------------------------------------------------------------------------
    // RelaySockets: asked by the core, on this thread, while it handles an Allocate

    @Override
    public boolean open(RelayEndpoint endpoint) {
        DatagramChannel channel = null;
        try {
            channel = open(endpoint.local());
            if (endpoint.dontFragment()) {
                // IP_DF for IPv4, IPV6_DONTFRAG for IPv6 (RFC 8656 DONT-FRAGMENT)
                channel.setOption(ExtendedSocketOptions.IP_DONTFRAGMENT, true);
            }
            channel.bind(endpoint.local());
            UdpSocket socket = register(channel, -1, endpoint);
            relays(endpoint)[endpoint.port()] = socket;
            return true;
        } catch (IOException | RuntimeException e) {
            log.atDebug()
                    .addKeyValue("relay", Addresses.format(endpoint.local()))
                    .setCause(e)
                    .log("cannot bind relay port");
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException ignored) {
                    // nothing more to release
                }
            }
            return false;
        }
    }

    @Override
    public boolean adopt(RelayEndpoint held, RelayEndpoint endpoint) {
        UdpSocket socket = relays(held)[held.port()];
        if (socket == null || socket.relay != held) {
            return false;
        }
        try {
            if (endpoint.dontFragment() != held.dontFragment()) {
                socket.channel.setOption(ExtendedSocketOptions.IP_DONTFRAGMENT, endpoint.dontFragment());
            }
        } catch (IOException | RuntimeException e) {
            log.atWarn()
                    .addKeyValue("relay", Addresses.format(held.local()))
                    .setCause(e)
                    .log("cannot set DONT-FRAGMENT");
            return false;
        }
        socket.relay = endpoint;
        return true;
    }

    @Override
    public boolean supportsDontFragment() {
        return dontFragmentSupported;
    }

    private UdpSocket[] relays(RelayEndpoint endpoint) {
        return endpoint.local().getAddress() instanceof Inet6Address ? ipv6Relays : ipv4Relays;
    }

    // ---------------------------------------------------------------------------------------------------
    // The loop

    @Override
    public void run() {
        try {
            while (running) {
                nowNs = System.nanoTime();
                epochSeconds = System.currentTimeMillis() / 1000;
                closeReleasedSockets();
                if (published == null || nowNs - publishedAtNs >= PUBLISH_INTERVAL_NS) {
                    publish();
                }
                if (relay.nextDeadlineNs() - nowNs <= 0) {
                    counters.timerRuns++;
                    if (!blocked.isEmpty()) {
                        counters.timerRunsWhileSuspended++;
                    }
                    try {
                        out.clear();
                        relay.onTimer(nowNs, out);
                        execute(receive);
                    } catch (RuntimeException e) {
                        // as for a datagram: a bug in the core costs this sweep, never the loop
                        counters.internalErrors++;
                        log.atError().setCause(e).log("internal error running timers");
                    }
                }
                if (flush()) {
                    readSelector.select(this::onReadable, waitMs());
                } else {
                    // Suspended: some socket's buffer is full. Read nothing until every queued packet is out;
                    // timers and stop() still wake this select.
                    long suspendedAt = System.nanoTime();
                    counters.suspendedWaits++;
                    if (writeSelector.select(key -> {}, waitMs()) > 0) {
                        counters.suspendedWakeupsByWritability++;
                    }
                    counters.suspendedNs += System.nanoTime() - suspendedAt;
                }
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

    private long waitMs() {
        long deadline = relay.nextDeadlineNs();
        if (deadline == Long.MAX_VALUE) {
            return MAX_WAIT_MS;
        }
        long ms = (deadline - System.nanoTime()) / 1_000_000 + 1;
        return Math.max(1, Math.min(MAX_WAIT_MS, ms));
    }

    private void onReadable(SelectionKey key) {
        UdpSocket socket = (UdpSocket) key.attachment();
        if (!key.isValid()) {
            return;
        }
        if (socket.fd >= 0) {
            receiveBatches(socket);
            return;
        }
        for (int budget = READ_BUDGET; budget > 0 && blocked.isEmpty(); budget--) {
            receive.clear().position(HEADROOM);
            receive.limit(HEADROOM + MAX_DATAGRAM);
            SocketAddress source;
            try {
                source = socket.channel.receive(receive);
            } catch (IOException e) {
                // e.g. an ICMP error reported on the socket; the socket itself is still usable
                counters.receiveErrors++;
                log.atDebug().addKeyValue("socket", socket).setCause(e).log("receive failed");
                return;
            }
            if (source == null) {
                return;
            }
            dispatch(socket, (InetSocketAddress) source, receive, HEADROOM, receive.position() - HEADROOM);
        }
    }

    /**
     * Up to {@link #READ_BUDGET} datagrams in batches. Every datagram of a batch is handled, even after a send
     * had to queue: they were received, so they are the relay's to deliver; only the next batch waits.
     */
    private void receiveBatches(UdpSocket socket) {
        for (int round = READ_BUDGET / BatchReceiver.SLOTS; round > 0 && blocked.isEmpty(); round--) {
            int n;
            try {
                n = batch.receive(socket.fd);
            } catch (IOException e) {
                counters.receiveErrors++;
                log.atDebug().addKeyValue("socket", socket).setCause(e).log("receive failed");
                return;
            }
            for (int i = 0; i < n; i++) {
                int length = batch.length(i);
                InetSocketAddress source = batch.source(i);
                if (length < 0 || source == null) {
                    counters.datagramsReceived++;
                    relay.counters().drop(RelayCounters.Drop.MALFORMED);
                    continue;
                }
                dispatch(socket, source, batch.buffer, batch.offset(i), length);
            }
            if (n < BatchReceiver.SLOTS) {
                return;
            }
        }
    }

    private void dispatch(UdpSocket socket, InetSocketAddress source, ByteBuffer buffer, int offset, int length) {
        counters.datagramsReceived++;
        buffer.limit(buffer.capacity());
        try {
            out.clear();
            if (socket.relay == null) {
                relay.onClientDatagram(nowNs, epochSeconds, socket.listener, source, buffer, offset, length, out);
            } else {
                relay.onPeerDatagram(nowNs, socket.relay, source, buffer, offset, length, out);
            }
            execute(buffer);
        } catch (RuntimeException e) {
            // The core must not throw; if it ever does, that datagram is lost but the relay is not.
            counters.internalErrors++;
            log.atError().setCause(e).log("internal error handling a datagram");
        }
    }

    private void execute(ByteBuffer buffer) {
        switch (out.forward()) {
            case NONE -> {}
            case TO_PEER -> {
                UdpSocket socket = relays(out.relay())[out.relay().port()];
                if (socket != null) {
                    buffer.limit(out.offset() + out.length()).position(out.offset());
                    send(socket, buffer, out.destination());
                } else {
                    relay.counters().drop(RelayCounters.Drop.SEND_ERROR); // cannot happen: a live endpoint has a socket
                }
            }
            case TO_CLIENT -> {
                buffer.limit(out.offset() + out.length()).position(out.offset());
                send(listeners.get(out.listener()), buffer, out.destination());
            }
        }
        for (Command command = out.poll(); command != null; command = out.poll()) {
            switch (command) {
                case Command.SendToClient s ->
                    send(listeners.get(s.listener()), ByteBuffer.wrap(s.bytes()), s.client());
                case Command.CloseRelay c -> release(c.relay());
            }
        }
    }

    /**
     * Queues a relay socket for closing at the top of the next iteration: a registered channel is only closed
     * after its keys are cancelled and a select has run, so it cannot be closed from inside a select.
     */
    private void release(RelayEndpoint endpoint) {
        UdpSocket[] table = relays(endpoint);
        UdpSocket socket = table[endpoint.port()];
        if (socket != null && socket.relay == endpoint) {
            table[endpoint.port()] = null;
            closing.add(socket);
        }
    }

    private void closeReleasedSockets() throws IOException {
        if (closing.isEmpty()) {
            return;
        }
        // Packets still queued for a deleted allocation's peers were accepted: the socket closes after them.
        List<UdpSocket> ready = new ArrayList<>();
        closing.removeIf(socket -> {
            if (!socket.pending.isEmpty()) {
                return false;
            }
            socket.readKey.cancel();
            if (socket.writeKey != null) {
                socket.writeKey.cancel();
            }
            ready.add(socket);
            return true;
        });
        if (ready.isEmpty()) {
            return;
        }
        readSelector.selectNow();
        writeSelector.selectNow();
        for (UdpSocket socket : ready) {
            socket.channel.close();
        }
    }

    /**
     * Sends now if the socket has nothing queued and the kernel takes the packet; otherwise queues a copy.
     * Only a real error (not a full buffer) loses the packet, and that is counted.
     */
    private void send(UdpSocket socket, ByteBuffer data, InetSocketAddress destination) {
        if (socket.pending.isEmpty()) {
            try {
                if (socket.channel.send(data, destination) > 0) {
                    sent(socket);
                    return;
                }
            } catch (IOException e) {
                relay.counters().drop(RelayCounters.Drop.SEND_ERROR);
                log.atDebug().addKeyValue("to", destination).setCause(e).log("send failed");
                return;
            }
        }
        if (socketOptions.dropWhenFull()) {
            counters.droppedFullBuffer++; // the benchmark-only variant: what a relay without buffering loses
            return;
        }
        ByteBuf copy = allocator.directBuffer(data.remaining());
        copy.writeBytes(data);
        socket.pending.add(new UdpSocket.Pending(copy, destination, nowNs));
        counters.packetsBuffered++;
        if (socket.pending.size() == 1) {
            block(socket);
        }
    }

    private void sent(UdpSocket socket) {
        counters.datagramsSent++;
        if (socket.relay != null) {
            counters.sentToPeers++;
        } else {
            counters.sentToClients++;
        }
    }

    private void block(UdpSocket socket) {
        try {
            if (socket.writeKey == null) {
                socket.writeKey = socket.channel.register(writeSelector, SelectionKey.OP_WRITE, socket);
            } else {
                socket.writeKey.interestOps(SelectionKey.OP_WRITE);
            }
        } catch (IOException | RuntimeException e) {
            // cannot wait for this socket: its queue is retried at each iteration instead (at most 1 s apart)
            log.atWarn().addKeyValue("socket", socket).setCause(e).log("cannot watch socket for writability");
        }
        blocked.add(socket);
    }

    /** Writes out queued packets in order; answers true when nothing is left queued anywhere. */
    private boolean flush() {
        for (int n = blocked.size(); n > 0; n--) {
            UdpSocket socket = blocked.poll();
            while (!socket.pending.isEmpty()) {
                UdpSocket.Pending packet = socket.pending.peek();
                try {
                    if (socket.channel.send(nioBuffer(packet.data()), packet.destination()) == 0) {
                        break;
                    }
                    sent(socket);
                    counters.bufferedNs += nowNs - packet.queuedAtNs();
                } catch (IOException e) {
                    relay.counters().drop(RelayCounters.Drop.SEND_ERROR);
                    log.atDebug()
                            .addKeyValue("to", packet.destination())
                            .setCause(e)
                            .log("send failed");
                }
                socket.pending.poll();
                packet.data().release();
            }
            if (socket.pending.isEmpty()) {
                if (socket.writeKey != null && socket.writeKey.isValid()) {
                    socket.writeKey.interestOps(0);
                }
            } else {
                blocked.add(socket);
            }
        }
        return blocked.isEmpty();
    }

    private static ByteBuffer nioBuffer(ByteBuf data) {
        return data.internalNioBuffer(data.readerIndex(), data.readableBytes());
    }

    private void close() {
        List<UdpSocket> all = new ArrayList<>(listeners);
        for (UdpSocket[] table : new UdpSocket[][] {ipv4Relays, ipv6Relays}) {
            for (UdpSocket socket : table) {
                if (socket != null) {
                    all.add(socket);
                }
            }
        }
        all.addAll(closing);
        for (UdpSocket socket : all) {
            for (UdpSocket.Pending packet : socket.pending) {
                packet.data().release();
            }
            socket.pending.clear();
            try {
                socket.channel.close();
            } catch (IOException e) {
                log.atDebug().setCause(e).log("close failed");
            }
        }
        try {
            readSelector.close();
            writeSelector.close();
        } catch (IOException e) {
            log.atDebug().setCause(e).log("close failed");
        }
    }
}
