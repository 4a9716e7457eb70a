package dev.turnpike.daemon.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

/** One non-blocking UDP socket: a message is a datagram; a wait is a select bounded by its timeout. */
final class DatagramWire implements Wire {
    final DatagramChannel channel;
    private final Selector selector;
    private final InetSocketAddress server;

    DatagramWire(DatagramChannel bound, InetSocketAddress server) throws IOException {
        this.channel = bound;
        this.server = server;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        channel.register(selector, SelectionKey.OP_READ);
    }

    @Override
    public void send(ByteBuffer message) throws IOException {
        channel.send(message, server);
    }

    @Override
    public ByteBuffer receive(ByteBuffer into, long timeoutMs) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (true) {
            into.clear();
            if (channel.receive(into) != null) {
                return into.flip();
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return null;
            }
            selector.select(left);
            selector.selectedKeys().clear();
        }
    }

    @Override
    public void trafficClass(int tos) throws IOException {
        channel.setOption(java.net.StandardSocketOptions.IP_TOS, tos);
    }

    @Override
    public void receiveBuffer(int bytes) throws IOException {
        channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, bytes);
    }

    @Override
    public void close() throws IOException {
        selector.close();
        channel.close();
    }
}
