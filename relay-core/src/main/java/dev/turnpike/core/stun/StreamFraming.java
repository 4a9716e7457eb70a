package dev.turnpike.core.stun;

import java.nio.ByteBuffer;

/**
 * Where one message ends in a TCP or TLS byte stream (RFC 8656 §3.1, §12.5): TURN over a stream has no framing of
 * its own, so each message is read by its own length field. A STUN message is its 20-byte header and the length
 * it names (a multiple of 4); ChannelData is its 4-byte header, the length it names, and on a stream the padding
 * to a multiple of 4. Anything else (a first byte of 0b10 or 0b11: RTP, DTLS, TLS, or garbage) cannot be framed,
 * and the connection has to be closed.
 */
public final class StreamFraming {
    /** The largest STUN message: its header and a 16-bit length that is a multiple of 4. */
    public static final int MAX_STUN = 20 + 65_532;
    /** The largest ChannelData on a stream, padding included. */
    public static final int MAX_CHANNEL_DATA = ChannelData.HEADER_LENGTH + 65_536;
    /** What a connection's read buffer must hold: one message of either kind, at its largest. */
    public static final int MAX_MESSAGE = Math.max(MAX_STUN, MAX_CHANNEL_DATA);

    /** More bytes are needed before the next message's length is known, or before all of it has arrived. */
    public static final int NEED_MORE = 0;
    /** The bytes cannot be a message: close the connection. */
    public static final int MALFORMED = -1;

    private StreamFraming() {}

    /**
     * The length on the stream of the message starting at {@code offset}, padding included, when all of it lies in
     * the {@code available} bytes there; {@link #NEED_MORE} when it does not yet; {@link #MALFORMED} when it
     * cannot be a message. The message itself is {@link #messageLength} bytes of that.
     */
    public static int frame(ByteBuffer buffer, int offset, int available) {
        if (available < ChannelData.HEADER_LENGTH) {
            return NEED_MORE;
        }
        int total = frameLength(buffer, offset);
        return total == MALFORMED || available >= total ? total : NEED_MORE;
    }

    /**
     * The length on the stream, padding included, of the message whose first 4 bytes are at {@code offset}; or
     * {@link #MALFORMED}. Tells a reader how much room the message needs before all of it has arrived.
     */
    public static int frameLength(ByteBuffer buffer, int offset) {
        int first = buffer.get(offset) & 0xC0;
        int length = buffer.getShort(offset + 2) & 0xFFFF;
        if (first == 0x00) {
            // RFC 8489 §5: a STUN message's length is a multiple of 4
            return (length & 3) == 0 ? 20 + length : MALFORMED;
        }
        if (first == 0x40) {
            return ChannelData.HEADER_LENGTH + ((length + 3) & ~3);
        }
        return MALFORMED;
    }

    /** The message's own length within a frame of {@link #frame}: without ChannelData's padding. */
    public static int messageLength(ByteBuffer buffer, int offset) {
        int length = buffer.getShort(offset + 2) & 0xFFFF;
        return (buffer.get(offset) & 0xC0) == 0x00 ? 20 + length : ChannelData.HEADER_LENGTH + length;
    }

    /** The padding ChannelData of {@code length} bytes (header included) takes on a stream: 0 to 3 bytes. */
    public static int channelDataPadding(int length) {
        return -length & 3;
    }
}
