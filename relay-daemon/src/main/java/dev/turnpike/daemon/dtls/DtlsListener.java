package dev.turnpike.daemon.dtls;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayDeque;

/**
 * A DTLS listening socket, and the packets it could not send yet: a full send buffer delays a packet, in a queue
 * bounded in bytes, instead of dropping it. Loop thread only.
 */
final class DtlsListener {
    /** A packet for {@code client} that waits for room in the socket's send buffer. */
    private record Waiting(InetSocketAddress client, ByteBuffer packet) {}

    final int index;
    final DatagramChannel channel;
    SelectionKey key;
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    private long waitingBytes;

    private DtlsListener(int index, DatagramChannel channel) {
        this.index = index;
        this.channel = channel;
    }

    static DtlsListener bind(InetSocketAddress address, int index, boolean reusePort, int receiveBuffer)
            throws IOException {
        DatagramChannel channel = DatagramChannel.open(
                address.getAddress() instanceof java.net.Inet4Address
                        ? StandardProtocolFamily.INET
                        : StandardProtocolFamily.INET6);
        try {
            channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                channel.setOption(StandardSocketOptions.SO_REUSEPORT, true); // one socket a worker, a client to one
            }
            if (receiveBuffer > 0) {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBuffer); // a burst of handshakes waits here
            }
            channel.bind(address);
            channel.configureBlocking(false);
        } catch (IOException e) {
            channel.close();
            throw new IOException(
                    "cannot listen on DTLS " + dev.turnpike.daemon.sys.Addresses.format(address) + ": "
                            + e.getMessage(),
                    e);
        }
        return new DtlsListener(index, channel);
    }

    /**
     * Sends {@code packet} to {@code client} now, or after what waits; false when it would pass {@code maxWaiting}
     * bytes of waiting packets (dropped: the caller counts it).
     */
    boolean send(InetSocketAddress client, ByteBuffer packet, long maxWaiting) throws IOException {
        if (waiting.isEmpty() && channel.send(packet, client) > 0) {
            return true;
        }
        if (waitingBytes + packet.remaining() > maxWaiting) {
            return false;
        }
        ByteBuffer copy = ByteBuffer.allocate(packet.remaining());
        copy.put(packet).flip();
        waiting.add(new Waiting(client, copy));
        waitingBytes += copy.remaining();
        key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
        return true;
    }

    /** Sends what waits, as far as the socket takes it; stops asking for writability once all is out. */
    void flush() throws IOException {
        while (!waiting.isEmpty()) {
            Waiting head = waiting.peek();
            int length = head.packet().remaining();
            if (channel.send(head.packet(), head.client()) == 0) {
                return;
            }
            waiting.poll();
            waitingBytes -= length;
        }
        key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
    }
}
