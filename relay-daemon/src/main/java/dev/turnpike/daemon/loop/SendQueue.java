package dev.turnpike.daemon.loop;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The packets the kernel could not take yet, and the sockets they wait on. A packet is sent at once when its
 * socket has nothing queued and the kernel takes it; otherwise a copy joins that socket's queue, in order, and
 * the socket is watched for writability on a selector of its own. {@link #flush} writes queues out; while
 * anything is queued (--suspend loop) or the queue is at its bound (--suspend flow) the loop reads nothing, so a
 * full socket buffer delays packets instead of dropping them. The one exception protects other clients: at the
 * bound with other flows being read, the longest queue's newest packets are shed instead ({@link FairShare}).
 *
 * <p>Every queued packet has a way out: it is sent, or its send fails with an error (counted as a send error
 * and released). A socket closed underneath fails its sends, so its queue empties too.
 *
 * <p>A selector of its own because NIO selectors are level-triggered: waiting for writability on the read
 * selector would return at once for every readable socket, and write interest left on an idle socket would
 * spin. This selector holds only sockets with queued packets, and only while they have them.
 */
final class SendQueue implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SendQueue.class);

    private final Selector writeSelector;
    private final ByteBufAllocator allocator;
    private final Transmitter transmitter;
    private final LoopCounters counters;
    private final boolean dropWhenFull;
    /** --max-queued-bytes: the bound at which the loop stops reading, and holds the rest of a batch it has read. */
    private final long maxQueuedBytes;
    /** --suspend loop: reading stops as soon as anything is queued; else (flow) only at {@link #maxQueuedBytes}. */
    private final boolean suspendOnAnyQueued;
    /**
     * --suspend flow: a blocked socket is watched for writability on the read selector too, so that the loop,
     * reading on, also wakes when the socket can take more.
     */
    private final boolean watchOnReadSelector;
    /** --suspend flow: who is shed at the bound, or null (--suspend loop) for suspension only. */
    private final FairShare fairShare;
    /** Sets each packet's TOS byte / Traffic Class on its socket (--dscp-preserve), or null: all unmarked. */
    private final TrafficClass marks;

    private final ArrayDeque<UdpSocket> blocked = new ArrayDeque<>();
    private long queuedBytes;
    private int queuedPackets;

    SendQueue(
            ByteBufAllocator allocator,
            Transmitter transmitter,
            LoopCounters counters,
            boolean dropWhenFull,
            long maxQueuedBytes,
            boolean suspendOnAnyQueued,
            TrafficClass marks)
            throws IOException {
        this.marks = marks;
        this.maxQueuedBytes = maxQueuedBytes;
        this.suspendOnAnyQueued = suspendOnAnyQueued;
        this.watchOnReadSelector = !suspendOnAnyQueued;
        this.fairShare = suspendOnAnyQueued ? null : new FairShare();
        this.writeSelector = Selector.open();
        this.allocator = allocator;
        this.transmitter = transmitter;
        this.counters = counters;
        this.dropWhenFull = dropWhenFull;
    }

    /** True when no packet waits anywhere. */
    boolean isEmpty() {
        return blocked.isEmpty();
    }

    /**
     * The suspension rule: whether the loop must stop reading until queues drain. With --suspend loop, as soon as
     * anything is queued; with --suspend flow (the default), once --max-queued-bytes wait and no other flow is
     * being read (with others, the full flow is shed instead).
     */
    boolean stopsReading() {
        return suspendOnAnyQueued ? !blocked.isEmpty() : atBound();
    }

    /** At the bound: the rest of a batch already read is held until the queue drains below it. */
    boolean atBound() {
        return queuedBytes >= maxQueuedBytes && (fairShare == null || !fairShare.othersActive());
    }

    int queuedPackets() {
        return queuedPackets;
    }

    long queuedBytes() {
        return queuedBytes;
    }

    /** A packet that is no flow's (a STUN response): {@link #send(UdpSocket, ByteBuffer, InetSocketAddress, long, Object)}. */
    void send(UdpSocket socket, ByteBuffer data, InetSocketAddress destination, long nowNs) {
        send(socket, data, destination, nowNs, null, 0);
    }

    /**
     * Sends {@code data} (position to limit) now if {@code socket} has nothing queued and the kernel takes it;
     * otherwise queues a copy. Only a real error (not a full buffer) loses the packet, and that is counted; and,
     * at the bound while other flows are read, a packet of the longest queue (counted as shed). {@code flow}: the
     * allocation's relay socket, either direction; null for a packet that belongs to no flow. {@code trafficClass}:
     * the TOS byte / Traffic Class it leaves with, when they are kept.
     */
    void send(
            UdpSocket socket,
            ByteBuffer data,
            InetSocketAddress destination,
            long nowNs,
            Object flow,
            int trafficClass) {
        counters.sendsRequested++;
        if (fairShare != null) {
            fairShare.relayed(flow, nowNs);
        }
        if (socket.pending.isEmpty()) {
            try {
                if (marks != null) {
                    marks.mark(socket, trafficClass, destination);
                }
                if (transmitter.transmit(socket, data, destination)) {
                    sent(socket);
                    return;
                }
            } catch (IOException | RuntimeException e) {
                // RuntimeException too: a closed or mismatched destination must cost this packet, not the loop
                sendFailed(destination, e);
                return;
            }
        }
        if (dropWhenFull) {
            counters.droppedFullBuffer++; // the benchmark-only variant: what a relay without buffering loses
            return;
        }
        int size = data.remaining();
        if (fairShare != null
                && queuedBytes + size > maxQueuedBytes
                && fairShare.othersActive()
                && !makeRoom(socket, size)) {
            counters.droppedShed++;
            return;
        }
        ByteBuf copy = allocator.directBuffer(Math.max(1, size));
        copy.writeBytes(data);
        socket.pending.add(new UdpSocket.Pending(copy, destination, nowNs, trafficClass));
        counters.packetsBuffered++;
        queuedPackets++;
        queuedBytes += size;
        socket.pendingBytes += size;
        if (fairShare != null) {
            fairShare.queued(socket);
        }
        if (queuedBytes > counters.queuedBytesHighWater) {
            counters.queuedBytesHighWater = queuedBytes;
        }
        if (socket.pending.size() == 1) {
            block(socket);
        }
    }

    /**
     * Room for {@code size} more bytes for {@code socket}, made by shedding the newest packets of the longest
     * queue when that is another socket's (its oldest stays, so it stays blocked and consistent); false when the
     * packet itself is the longest queue's newest, or no room could be made.
     */
    private boolean makeRoom(UdpSocket socket, int size) {
        UdpSocket longest = fairShare.longest(blocked);
        if (longest == null || longest == socket || longest.pendingBytes <= socket.pendingBytes + size) {
            return false;
        }
        while (queuedBytes + size > maxQueuedBytes && longest.pending.size() > 1) {
            UdpSocket.Pending shed = longest.pending.pollLast();
            int bytes = shed.data().readableBytes();
            shed.data().release();
            queuedPackets--;
            queuedBytes -= bytes;
            longest.pendingBytes -= bytes;
            counters.droppedShed++;
        }
        return queuedBytes + size <= maxQueuedBytes;
    }

    private void sent(UdpSocket socket) {
        counters.datagramsSent++;
        if (socket.relay != null) {
            counters.sentToPeers++;
        } else {
            counters.sentToClients++;
        }
    }

    private void sendFailed(InetSocketAddress destination, Exception e) {
        counters.sendErrors++;
        log.atDebug().addKeyValue("to", destination).setCause(e).log("send failed");
    }

    private void block(UdpSocket socket) {
        try {
            if (socket.writeKey == null) {
                socket.writeKey = socket.channel.register(writeSelector, SelectionKey.OP_WRITE, socket);
            } else {
                socket.writeKey.interestOps(SelectionKey.OP_WRITE);
            }
            if (watchOnReadSelector && socket.readKey != null) {
                socket.readKey.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
        } catch (IOException | RuntimeException e) {
            // cannot wait for this socket (closed?): its queue is retried at each flush, where its sends fail
            log.atDebug().addKeyValue("socket", socket).setCause(e).log("cannot watch socket for writability");
        }
        blocked.add(socket);
    }

    /** Whether the blocked sockets and the packet count agree: none is blocked with nothing queued. */
    boolean consistent() {
        int packets = 0;
        long bytes = 0;
        for (UdpSocket socket : blocked) {
            if (socket.pending.isEmpty()) {
                return false;
            }
            packets += socket.pending.size();
            bytes += socket.pendingBytes;
        }
        return packets == queuedPackets && bytes == queuedBytes;
    }

    /** Writes out queued packets in order; answers true when nothing is left queued anywhere. */
    boolean flush(long nowNs) {
        for (int n = blocked.size(); n > 0; n--) {
            UdpSocket socket = blocked.poll();
            while (!socket.pending.isEmpty()) {
                UdpSocket.Pending packet = socket.pending.peek();
                ByteBuf data = packet.data();
                try {
                    if (marks != null) {
                        marks.mark(socket, packet.trafficClass(), packet.destination());
                    }
                    if (!transmitter.transmit(
                            socket,
                            data.internalNioBuffer(data.readerIndex(), data.readableBytes()),
                            packet.destination())) {
                        break;
                    }
                    sent(socket);
                    counters.bufferedNs += nowNs - packet.queuedAtNs();
                } catch (IOException | RuntimeException e) {
                    sendFailed(packet.destination(), e);
                }
                socket.pending.poll();
                queuedPackets--;
                queuedBytes -= data.readableBytes();
                socket.pendingBytes -= data.readableBytes();
                data.release();
            }
            if (socket.pending.isEmpty()) {
                if (socket.writeKey != null && socket.writeKey.isValid()) {
                    socket.writeKey.interestOps(0);
                }
                if (watchOnReadSelector && socket.readKey != null && socket.readKey.isValid()) {
                    socket.readKey.interestOps(SelectionKey.OP_READ); // write interest on an idle socket would spin
                }
            } else {
                blocked.add(socket);
            }
        }
        if (fairShare != null) {
            fairShare.flushed();
        }
        return blocked.isEmpty();
    }

    /**
     * Waits up to {@code timeoutMs} for a socket with queued packets to become writable, or for {@link #wakeup};
     * answers whether writability ended the wait.
     */
    boolean awaitWritable(long timeoutMs) throws IOException {
        return writeSelector.select(key -> {}, timeoutMs) > 0;
    }

    void wakeup() {
        writeSelector.wakeup();
    }

    /** Stops watching a socket that is about to close (its queue must be empty); completes at the next select. */
    void forget(UdpSocket socket) {
        if (socket.writeKey != null) {
            socket.writeKey.cancel();
        }
    }

    /** Lets cancelled keys complete, so their channels can close. */
    void selectNow() throws IOException {
        writeSelector.selectNow();
    }

    /** Releases every queued packet (the loop is stopping). */
    @Override
    public void close() {
        for (UdpSocket socket : blocked) {
            for (UdpSocket.Pending packet : socket.pending) {
                packet.data().release();
            }
            socket.pending.clear();
            socket.pendingBytes = 0;
        }
        blocked.clear();
        queuedPackets = 0;
        queuedBytes = 0;
        try {
            writeSelector.close();
        } catch (IOException e) {
            log.atDebug().setCause(e).log("close failed");
        }
    }
}
