package dev.turnpike.daemon.loop;

import dev.turnpike.core.Relay;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop's UDP input: a ready socket's datagrams, read in batches of {@link BatchReceiver#SLOTS} by recvmmsg
 * where the platform allows (else one {@code DatagramChannel.receive} each, into one direct buffer), each handed to
 * {@link Delivery} with the headroom in front of it that the core writes a ChannelData or Data header into. A
 * batch, once received, is the relay's to deliver: only the send queue at its bound stops it, and then the rest
 * of the batch waits in its buffer (held) and goes first once the queue has drained.
 */
public final class DatagramTransport implements Transport {
    private static final Logger log = LoggerFactory.getLogger(DatagramTransport.class);
    private static final int HEADROOM = Relay.HEADROOM;
    /** The largest datagram the receive buffer must hold (UDP over IPv6 jumbograms aside). */
    private static final int MAX_DATAGRAM = 65_535;
    /** Datagrams read from one ready socket before the others get a turn. */
    private static final int READ_BUDGET = 64;

    /** What the loop does with what arrives. */
    interface Delivery {
        /**
         * A datagram from {@code source} on {@code socket}, at {@code offset} with headroom in front of it, that
         * arrived with TOS byte / Traffic Class {@code trafficClass} (0 when not read).
         */
        void datagram(
                UdpSocket socket,
                InetSocketAddress source,
                ByteBuffer buffer,
                int offset,
                int length,
                int trafficClass);

        /** A batch slot that held no datagram one could read (truncated, or no source address): counted. */
        void malformed();
    }

    private final ByteBuffer receive = ByteBuffer.allocateDirect(HEADROOM + MAX_DATAGRAM + Relay.TAILROOM + 1);
    /** recvmmsg batches, or null where unavailable (then {@link #receive} and the JDK are used). */
    private final BatchReceiver batch;

    private final SendQueue sendQueue;
    private final UdpSockets sockets;
    private final boolean reusePort;
    /** The listening sockets by listener number (null where another transport's listener is). */
    private UdpSocket[] byListener = new UdpSocket[0];

    private final LoopCounters counters;
    private final Delivery delivery;
    private final String unbatchedBecause;
    /** A batch whose datagrams from {@link #heldNext} to {@link #heldCount} are not handled yet, or null. */
    private UdpSocket heldBatch;

    private int heldNext;
    private int heldCount;
    /**
     * Ready sockets passed over while reading was stopped, in the order they were: read first once it resumes.
     * The selector reports ready keys in the same order every time, so without this the socket that comes first
     * would refill the queue each time it drains and one that comes later (a flow's way back) would never be
     * read, its datagrams lost in the kernel.
     */
    private final java.util.ArrayDeque<UdpSocket> passedOver = new java.util.ArrayDeque<>();

    /** {@code readTrafficClass}: read each datagram's TOS byte (batched receive only; else every datagram has 0). */
    DatagramTransport(
            SocketOptions options,
            boolean readTrafficClass,
            SendQueue sendQueue,
            UdpSockets sockets,
            LoopCounters counters,
            Delivery delivery) {
        this.batch = options.batchedReceive() && BatchReceiver.AVAILABLE
                ? new BatchReceiver(HEADROOM, Relay.TAILROOM, new AddressCache(1 << 14), readTrafficClass)
                : null;
        this.unbatchedBecause = options.batchedReceive() ? BatchReceiver.UNAVAILABLE_BECAUSE : "batching off";
        this.sendQueue = sendQueue;
        this.sockets = sockets;
        this.reusePort = options.reusePort();
        this.counters = counters;
        this.delivery = delivery;
    }

    @Override
    public void listen(Listeners.Listener listener) throws IOException {
        InetSocketAddress address = listener.address();
        DatagramChannel channel = sockets.open(address);
        try {
            if (reusePort) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true);
            }
            channel.bind(address);
        } catch (IOException e) {
            channel.close();
            throw new IOException("cannot listen on " + Addresses.format(address) + ": " + e.getMessage(), e);
        }
        if (listener.index() >= byListener.length) {
            byListener = java.util.Arrays.copyOf(byListener, listener.index() + 1);
        }
        byListener[listener.index()] = sockets.register(channel, listener.index(), null);
    }

    @Override
    public boolean owns(SelectionKey key) {
        return key.attachment() instanceof UdpSocket;
    }

    @Override
    public InetSocketAddress boundAddress(int listener) throws IOException {
        return (InetSocketAddress) byListener[listener].channel.getLocalAddress();
    }

    /** Whether DSCP and ECN are kept ({@code keep}: --dscp-preserve), or why not, for the start-up log. */
    public String trafficClassMode(boolean keep) {
        if (!keep) {
            return "off";
        }
        if (!readsTrafficClass()) {
            return "unavailable: "
                    + (TrafficClass.available() ? "batched receive off" : TrafficClass.UNAVAILABLE_BECAUSE);
        }
        return "on";
    }

    /** The receive buffer the kernel actually granted a listening socket (Linux reports twice the usable size). */
    public int effectiveReceiveBuffer() throws IOException {
        for (UdpSocket socket : byListener) {
            if (socket != null) {
                return socket.channel.getOption(StandardSocketOptions.SO_RCVBUF);
            }
        }
        return 0;
    }

    @Override
    public void send(
            int listener,
            InetSocketAddress client,
            ByteBuffer bytes,
            boolean channelData,
            UdpSocket flow,
            int trafficClass,
            long nowNs) {
        sendQueue.send(byListener[listener], bytes, client, nowNs, flow, trafficClass);
    }

    @Override
    public void sweep(long nowNs) {
        // nothing times out here: a relay socket lives as long as its allocation, which the core expires
    }

    /** Closes the listening sockets; the relay sockets are the {@link RelaySocketTable}'s to close. */
    @Override
    public void close() {
        for (UdpSocket socket : byListener) {
            if (socket != null) {
                try {
                    socket.channel.close();
                } catch (IOException e) {
                    log.atDebug().setCause(e).log("close failed");
                }
            }
        }
    }

    /** A buffer with headroom for inputs that are not datagrams (timers, closed connections): the same one. */
    ByteBuffer buffer() {
        return receive;
    }

    /** Whether each datagram's TOS byte is read (so that it can be kept). */
    boolean readsTrafficClass() {
        return batch != null && batch.readsTrafficClass();
    }

    /** How datagrams are received, for the start-up log. */
    public String receiveMode() {
        return batch != null
                ? "recvmmsg, up to " + BatchReceiver.SLOTS + " datagrams a call"
                : "one datagram a call (" + unbatchedBecause + ")";
    }

    /** The socket whose batch is held, or null: it must not close before the rest of its batch is handled. */
    UdpSocket held() {
        return heldBatch;
    }

    /** Whether the loop may read more: no batch held, and the send queue not stopping reading. */
    boolean mayRead() {
        return heldBatch == null && !sendQueue.stopsReading();
    }

    /** The rest of a held batch, now that the queue has room. */
    void resumeHeldBatch() {
        UdpSocket socket = heldBatch;
        heldBatch = null;
        handleBatch(socket, heldNext, heldCount);
    }

    /** A UDP socket's key is ready: read up to {@link #READ_BUDGET} datagrams while the loop may read. */
    @Override
    public void onReady(SelectionKey key, long nowNs) {
        UdpSocket socket = (UdpSocket) key.attachment();
        if (!key.isValid() || !key.isReadable()) {
            return; // writable only (--suspend flow): the flush at the top of the next iteration sends
        }
        if (!mayRead()) {
            if (!socket.passedOver) {
                socket.passedOver = true;
                passedOver.add(socket);
            }
            return;
        }
        read(socket);
    }

    /** Whether sockets passed over wait for their turn. */
    boolean passedOverWaiting() {
        return !passedOver.isEmpty();
    }

    /** Reads the sockets passed over while reading was stopped, first come first, while the loop may read. */
    int readPassedOver() {
        int read = 0;
        while (mayRead() && !passedOver.isEmpty()) {
            UdpSocket socket = passedOver.poll();
            socket.passedOver = false;
            if (socket.channel.isOpen()) { // a relay socket released meanwhile is closed (and its fd maybe reused)
                read(socket);
                read++;
            }
        }
        return read;
    }

    private void read(UdpSocket socket) {
        if (batch != null) {
            receiveBatches(socket);
            return;
        }
        for (int budget = READ_BUDGET; budget > 0 && mayRead(); budget--) {
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
            delivery.datagram(socket, (InetSocketAddress) source, receive, HEADROOM, receive.position() - HEADROOM, 0);
        }
    }

    /**
     * Up to {@link #READ_BUDGET} datagrams in batches. The datagrams of a batch were received, so they are the
     * relay's to deliver: a send that has to queue does not stop the batch, but once the queue holds
     * {@code --max-queued-bytes} the rest of the batch waits in its buffer until the queue has drained.
     */
    private void receiveBatches(UdpSocket socket) {
        for (int round = READ_BUDGET / BatchReceiver.SLOTS; round > 0 && mayRead(); round--) {
            int n;
            try {
                n = batch.receive(socket.fd);
            } catch (IOException e) {
                counters.receiveErrors++;
                log.atDebug().addKeyValue("socket", socket).setCause(e).log("receive failed");
                return;
            }
            handleBatch(socket, 0, n);
            if (n < BatchReceiver.SLOTS) {
                return;
            }
        }
    }

    private void handleBatch(UdpSocket socket, int from, int count) {
        for (int i = from; i < count; i++) {
            if (sendQueue.atBound()) {
                heldBatch = socket;
                heldNext = i;
                heldCount = count;
                counters.batchesHeld++;
                return;
            }
            int length = batch.length(i);
            InetSocketAddress source = batch.source(i);
            if (length < 0 || source == null) {
                delivery.malformed();
                continue;
            }
            delivery.datagram(socket, source, batch.buffer, batch.offset(i), length, batch.trafficClass(i));
        }
    }
}
