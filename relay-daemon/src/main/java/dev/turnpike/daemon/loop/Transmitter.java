package dev.turnpike.daemon.loop;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * How the send queue hands one datagram to the kernel. The one thing it must tell apart is "the kernel took
 * it" from "the socket buffer is full, try again": {@link java.nio.channels.DatagramChannel#send} answers 0 for
 * both when the datagram is empty, and reading that 0 as "full" once queued an empty datagram for ever and froze
 * the loop. The seam also lets a test play a kernel whose buffers fill and drain on cue.
 */
public interface Transmitter {
    /**
     * Sends {@code data} (position to limit) from {@code socket} to {@code destination}: true when the kernel took
     * it, false when the socket's send buffer is full (nothing was sent). Throws for a real error.
     */
    boolean transmit(UdpSocket socket, ByteBuffer data, InetSocketAddress destination) throws IOException;
}
