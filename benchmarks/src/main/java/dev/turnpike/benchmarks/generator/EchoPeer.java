package dev.turnpike.benchmarks.generator;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.concurrent.atomic.AtomicLong;

/** The peer every client's channel leads to: sends each datagram straight back where it came from. */
final class EchoPeer implements AutoCloseable {
    private final DatagramChannel channel;
    private final Thread thread;
    final AtomicLong echoed = new AtomicLong();

    /** Runs an echo peer on its own, for a peer behind another link: {@code EchoPeer IP PORT}, until killed. */
    public static void main(String[] args) throws IOException, InterruptedException {
        try (EchoPeer peer = new EchoPeer(args[0], Integer.parseInt(args[1]))) {
            System.out.println("echo peer on " + peer.address());
            peer.thread.join();
        }
    }

    EchoPeer(String ip) throws IOException {
        this(ip, 0);
    }

    EchoPeer(String ip, int port) throws IOException {
        channel = DatagramChannel.open();
        channel.setOption(StandardSocketOptions.SO_RCVBUF, 4 << 20);
        channel.setOption(StandardSocketOptions.SO_SNDBUF, 4 << 20);
        channel.bind(new InetSocketAddress(ip, port));
        thread = new Thread(this::run, "echo-peer");
        thread.setDaemon(port == 0);
        thread.start();
    }

    InetSocketAddress address() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    private void run() {
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        try {
            while (true) {
                buffer.clear();
                SocketAddress from = channel.receive(buffer);
                buffer.flip();
                channel.send(buffer, from);
                echoed.lazySet(echoed.get() + 1);
            }
        } catch (ClosedChannelException e) {
            // closed: done
        } catch (IOException e) {
            System.err.println("echo peer stopped: " + e);
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
