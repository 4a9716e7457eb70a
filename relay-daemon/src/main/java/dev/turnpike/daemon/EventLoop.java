package dev.turnpike.daemon;

import dev.turnpike.core.Command;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayCounters;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
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
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread with I/O. Each iteration: read the clock, flush queued packets, then either read (every
 * queue empty) or wait only for the sockets with queued packets to become writable (suspended). A full
 * socket buffer therefore delays a packet instead of dropping it.
 *
 * <p>Two selectors, because NIO selectors are level-triggered: waiting for writability on the read selector
 * would return at once for every readable socket, and leaving write interest on an idle socket would spin.
 * The write selector holds only sockets with queued packets, and only while they have them.
 */
final class EventLoop implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    /** Room in front of a received datagram for a header written in place (ChannelData, Data indication). */
    static final int HEADROOM = 64;
    private static final int MAX_DATAGRAM = 65_535;
    /** Datagrams read from one socket per wake-up, so one busy socket cannot starve the others. */
    private static final int READ_BUDGET = 64;
    private static final long MAX_WAIT_MS = 1_000;

    private Relay relay;
    private final Selector readSelector;
    private final Selector writeSelector;
    private final ByteBufAllocator allocator;
    private final List<UdpSocket> listeners = new ArrayList<>();
    private final ArrayDeque<UdpSocket> blocked = new ArrayDeque<>();
    private final ByteBuffer receive = ByteBuffer.allocateDirect(HEADROOM + MAX_DATAGRAM + 4);
    private final Outbox out = new Outbox();
    private final LoopCounters counters = new LoopCounters();
    private volatile boolean running = true;
    private long nowNs;

    EventLoop(List<InetSocketAddress> listen, ByteBufAllocator allocator) throws IOException {
        this.allocator = allocator;
        this.readSelector = Selector.open();
        this.writeSelector = Selector.open();
        try {
            for (int i = 0; i < listen.size(); i++) {
                InetSocketAddress address = listen.get(i);
                DatagramChannel channel = DatagramChannel.open(
                        address.getAddress() instanceof java.net.Inet6Address
                                ? StandardProtocolFamily.INET6
                                : StandardProtocolFamily.INET);
                try {
                    channel.setOption(StandardSocketOptions.SO_REUSEADDR, false);
                    channel.bind(address);
                } catch (IOException e) {
                    channel.close();
                    throw new IOException("cannot listen on " + Addresses.format(address) + ": " + e.getMessage(), e);
                }
                UdpSocket socket = register(channel, i, null);
                listeners.add(socket);
            }
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private UdpSocket register(DatagramChannel channel, int listener, Object relayEndpoint) throws IOException {
        channel.configureBlocking(false);
        UdpSocket socket = new UdpSocket(channel, listener, relayEndpoint);
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

    /** The core this loop feeds; set once, after the sockets are bound and before {@link #run}. */
    void attach(Relay relay) {
        this.relay = relay;
    }

    LoopCounters counters() {
        return counters;
    }

    /** Asks the loop to stop; safe from any thread. */
    void stop() {
        running = false;
        readSelector.wakeup();
        writeSelector.wakeup();
    }

    @Override
    public void run() {
        try {
            while (running) {
                nowNs = System.nanoTime();
                if (flush()) {
                    readSelector.select(this::onReadable, waitMs());
                } else {
                    // Suspended: some socket's buffer is full. Read nothing until every queued packet is out.
                    long suspendedAt = nowNs;
                    writeSelector.select(this::onWritable, waitMs());
                    counters.suspendedNs += System.nanoTime() - suspendedAt;
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
        return MAX_WAIT_MS;
    }

    private void onWritable(SelectionKey key) {
        // flush() at the top of the next iteration does the writing, for every blocked socket in order.
    }

    private void onReadable(SelectionKey key) {
        UdpSocket socket = (UdpSocket) key.attachment();
        for (int budget = READ_BUDGET; budget > 0 && blocked.isEmpty(); budget--) {
            receive.clear().position(HEADROOM);
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
            counters.datagramsReceived++;
            int length = receive.position() - HEADROOM;
            try {
                out.clear();
                relay.onClientDatagram(nowNs, socket.listener, (InetSocketAddress) source, receive, HEADROOM, length, out);
                execute();
            } catch (RuntimeException e) {
                // The core must not throw; if it ever does, that datagram is lost but the relay is not.
                counters.internalErrors++;
                log.atError().setCause(e).log("internal error handling a datagram");
            }
        }
    }

    private void execute() {
        switch (out.forward()) {
            case NONE -> {}
            case TO_CLIENT -> {
                receive.limit(out.offset() + out.length()).position(out.offset());
                send(listeners.get(out.listener()), receive, out.destination());
            }
        }
        for (Command command = out.poll(); command != null; command = out.poll()) {
            switch (command) {
                case Command.SendToClient s -> send(listeners.get(s.listener()), ByteBuffer.wrap(s.bytes()), s.client());
            }
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
                    counters.datagramsSent++;
                    return;
                }
            } catch (IOException e) {
                relay.counters().drop(RelayCounters.Drop.SEND_ERROR);
                log.atDebug().addKeyValue("to", destination).setCause(e).log("send failed");
                return;
            }
        }
        ByteBuf copy = allocator.directBuffer(data.remaining());
        copy.writeBytes(data);
        socket.pending.add(new UdpSocket.Pending(copy, destination, nowNs));
        counters.packetsBuffered++;
        if (socket.pending.size() == 1) {
            block(socket);
        }
    }

    private void block(UdpSocket socket) {
        try {
            if (socket.writeKey == null) {
                socket.writeKey = socket.channel.register(writeSelector, SelectionKey.OP_WRITE, socket);
            } else {
                socket.writeKey.interestOps(SelectionKey.OP_WRITE);
            }
        } catch (IOException e) {
            // cannot wait for this socket: its queue is flushed by polling at the next iteration instead
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
                    ByteBuffer bytes = packet.data().internalNioBuffer(packet.data().readerIndex(), packet.data().readableBytes());
                    if (socket.channel.send(bytes, packet.destination()) == 0) {
                        break;
                    }
                    counters.datagramsSent++;
                } catch (IOException e) {
                    relay.counters().drop(RelayCounters.Drop.SEND_ERROR);
                    log.atDebug().addKeyValue("to", packet.destination()).setCause(e).log("send failed");
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

    private void close() {
        for (UdpSocket socket : listeners) {
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

    static long millisUntil(long deadlineNs, long nowNs) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNs - nowNs) + 1);
    }
}
