package dev.turnpike.daemon;

import dev.turnpike.daemon.loop.KernelTransmitter;
import dev.turnpike.daemon.loop.Transmitter;
import dev.turnpike.daemon.loop.UdpSocket;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The kernel, with buffers that fill and drain when a test says so, and relay sockets that a test can have
 * closed underneath the loop. A full buffer refuses without sending, as the kernel's does; the loop still sees
 * its channels writable, so while full it spins instead of sleeping: fine for a test, bounded by the test.
 */
public final class ScriptedTransmitter implements Transmitter {
    private final KernelTransmitter kernel = new KernelTransmitter();
    private volatile boolean full;
    private volatile boolean closeNextRelaySocket;
    private volatile CountDownLatch gate;
    private volatile CountDownLatch reached;

    private volatile InetSocketAddress slowDestination;

    public void full(boolean value) {
        full = value;
    }

    /** Only sends to {@code destination} find the buffer full (null: none): one slow peer among fast ones. */
    public void fullTowards(InetSocketAddress destination) {
        slowDestination = destination;
    }

    /** The next relay socket that sends is closed first, as if its descriptor had failed. */
    void closeNextRelaySocket() {
        closeNextRelaySocket = true;
    }

    /**
     * The next send waits (at most 5 s) until {@code release} opens, then goes out, and every buffer is full from
     * then on: the loop is held on that send while the test lines up datagrams, which it then reads in one batch
     * and cannot send.
     */
    CountDownLatch holdNextSendThenFill(CountDownLatch release) {
        reached = new CountDownLatch(1);
        gate = release;
        return reached;
    }

    @Override
    public boolean transmit(UdpSocket socket, ByteBuffer data, InetSocketAddress destination) throws IOException {
        CountDownLatch waitFor = gate;
        if (waitFor != null) {
            gate = null;
            reached.countDown();
            try {
                waitFor.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            boolean sent = kernel.transmit(socket, data, destination);
            full = true;
            return sent;
        }
        if (closeNextRelaySocket && socket.relay != null) {
            closeNextRelaySocket = false;
            socket.channel.close();
        }
        if (full || destination.equals(slowDestination)) {
            return false;
        }
        return kernel.transmit(socket, data, destination);
    }
}
