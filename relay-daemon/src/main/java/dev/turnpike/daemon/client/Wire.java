package dev.turnpike.daemon.client;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * How a {@link TurnClient} reaches its relay: one UDP socket ({@link DatagramWire}) or one TCP or TLS connection
 * ({@link StreamWire}). Both move whole messages, a STUN message or ChannelData, so the client above them is the
 * same for every transport; only a stream pads ChannelData (RFC 8656 §12.5) and cuts messages out of the bytes.
 */
interface Wire extends AutoCloseable {
    /** Sends one whole message, from position to limit. */
    void send(ByteBuffer message) throws IOException;

    /** The next message the relay sent, read into {@code into} (cleared, then flipped); null after {@code timeoutMs}. */
    ByteBuffer receive(ByteBuffer into, long timeoutMs) throws IOException;

    /** Marks what this client sends from now on with TOS byte / Traffic Class {@code tos} (IP_TOS). */
    void trafficClass(int tos) throws IOException;

    /** Asks the kernel for a receive buffer of {@code bytes} (SO_RCVBUF): a client that reads little stalls sooner. */
    void receiveBuffer(int bytes) throws IOException;

    @Override
    void close() throws IOException;
}
