package dev.turnpike.core.stun;

import java.nio.ByteBuffer;

/**
 * ChannelData framing (RFC 8656 §12.4). Static helpers over a buffer: the data plane must not allocate.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Channel Number        |            Length             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * /                       Application Data                        /
 * </pre>
 */
public final class ChannelData {
    public static final int HEADER_LENGTH = 4;
    public static final int MIN_CHANNEL = 0x4000;
    public static final int MAX_CHANNEL = 0x4FFF;
    /** RFC 5766 allowed channels up to 0x7FFF; some old clients (turnutils_uclient 4.6) still use them. */
    public static final int MAX_CHANNEL_RFC5766 = 0x7FFF;

    private ChannelData() {}

    /** True when the first two bits are 01, the ChannelData range 0x4000-0x7FFF (RFC 8656 §12). */
    public static boolean looksLikeChannelData(ByteBuffer buffer, int offset, int length) {
        return length >= HEADER_LENGTH && (buffer.get(offset) & 0xC0) == 0x40;
    }

    public static int channelNumber(ByteBuffer buffer, int offset) {
        return buffer.getShort(offset) & 0xFFFF;
    }

    /**
     * The application data length, or -1 when the header claims more than the datagram holds. Over UDP
     * the datagram may carry up to 3 bytes of padding after the data, which are ignored (RFC 8656 §12.5).
     */
    public static int payloadLength(ByteBuffer buffer, int offset, int length) {
        int claimed = buffer.getShort(offset + 2) & 0xFFFF;
        return claimed <= length - HEADER_LENGTH ? claimed : -1;
    }

    /** Writes a ChannelData header at {@code offset}, in front of {@code payloadLength} bytes of data. */
    public static void writeHeader(ByteBuffer buffer, int offset, int channel, int payloadLength) {
        buffer.putShort(offset, (short) channel);
        buffer.putShort(offset + 2, (short) payloadLength);
    }
}
