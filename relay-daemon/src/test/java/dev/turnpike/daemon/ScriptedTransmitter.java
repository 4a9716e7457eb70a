package dev.turnpike.daemon;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The kernel, with buffers that fill and drain when a test says so, and relay sockets that a test can have
 * closed underneath the loop. A full buffer refuses without sending, as the kernel's does; the loop still sees
 * its channels writable, so while full it spins instead of sleeping: fine for a test, bounded by the test.
 */
final class ScriptedTransmitter implements Transmitter {
    private final KernelTransmitter kernel = new KernelTransmitter();
    private volatile boolean full;
    private volatile boolean closeNextRelaySocket;

    void full(boolean value) {
        full = value;
    }

    /** The next relay socket that sends is closed first, as if its descriptor had failed. */
    void closeNextRelaySocket() {
        closeNextRelaySocket = true;
    }

    @Override
    public boolean transmit(UdpSocket socket, ByteBuffer data, InetSocketAddress destination) throws IOException {
        if (closeNextRelaySocket && socket.relay != null) {
            closeNextRelaySocket = false;
            socket.channel.close();
        }
        if (full) {
            return false;
        }
        return kernel.transmit(socket, data, destination);
    }
}
