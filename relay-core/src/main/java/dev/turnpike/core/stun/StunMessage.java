package dev.turnpike.core.stun;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * A flyweight over one STUN message in a buffer: {@link #wrap} validates the framing once and records where
 * each attribute's value lies; the accessors then read the buffer at absolute offsets. Nothing is copied and
 * nothing is thrown for bad input: {@link #wrap} answers a {@link DecodeStatus}.
 *
 * <p>Reuse one instance per thread; it is not thread-safe and it keeps a reference to the wrapped buffer.
 */
public final class StunMessage {
    public static final int HEADER_LENGTH = 20;
    public static final int MAGIC_COOKIE = 0x2112A442;

    /**
     * Whether the bytes at {@code offset} begin as a STUN message does (RFC 8489 §5: the top two bits zero and the
     * magic cookie at byte 4), from the 8 bytes there; nothing more is checked.
     */
    public static boolean startsLikeStun(ByteBuffer buffer, int offset) {
        return (buffer.get(offset) & 0xC0) == 0 && buffer.getInt(offset + 4) == MAGIC_COOKIE;
    }
    /** Far more than any real request carries (an Allocate with everything has about 12). */
    static final int MAX_ATTRIBUTES = 48;

    private ByteBuffer buffer;
    private int start;
    private int messageLength;
    private final int[] types = new int[MAX_ATTRIBUTES];
    private final int[] valueOffsets = new int[MAX_ATTRIBUTES];
    private final int[] valueLengths = new int[MAX_ATTRIBUTES];
    private int count;
    private int integrityIndex;
    private int integritySha256Index;
    private int fingerprintIndex;

    // RFC 8489 §5
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |0 0|     STUN Message Type     |         Message Length        |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                         Magic Cookie                          |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                     Transaction ID (96 bits)                  |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    //
    // RFC 8489 §14: each attribute is a TLV padded to a multiple of 4 bytes.
    // |         Type                  |            Length             |
    // |                         Value (variable)                ....
    /**
     * Validates the framing of the {@code length} bytes at {@code offset} and indexes the attributes. On
     * anything but {@link DecodeStatus#OK} the accessors must not be used.
     */
    public DecodeStatus wrap(ByteBuffer buffer, int offset, int length) {
        this.buffer = buffer;
        this.start = offset;
        this.count = 0;
        this.integrityIndex = -1;
        this.integritySha256Index = -1;
        this.fingerprintIndex = -1;
        if (length < HEADER_LENGTH || offset < 0 || offset + length > buffer.limit()) {
            return DecodeStatus.TOO_SHORT;
        }
        if ((buffer.get(offset) & 0xC0) != 0) {
            return DecodeStatus.NOT_STUN;
        }
        if (buffer.getInt(offset + 4) != MAGIC_COOKIE) {
            return DecodeStatus.BAD_MAGIC_COOKIE;
        }
        int bodyLength = u16(offset + 2);
        if ((bodyLength & 3) != 0 || HEADER_LENGTH + bodyLength != length) {
            return DecodeStatus.BAD_LENGTH;
        }
        this.messageLength = length;
        int end = offset + length;
        int position = offset + HEADER_LENGTH;
        while (position < end) {
            if (end - position < 4) {
                return DecodeStatus.TRUNCATED_ATTRIBUTE;
            }
            int type = u16(position);
            int valueLength = u16(position + 2);
            int valueOffset = position + 4;
            int padded = (valueLength + 3) & ~3;
            if (padded > end - valueOffset) {
                return DecodeStatus.TRUNCATED_ATTRIBUTE;
            }
            if (fingerprintIndex >= 0) {
                return DecodeStatus.MISPLACED_ATTRIBUTE; // RFC 8489 §14.7: FINGERPRINT is the last attribute
            }
            // RFC 8489 §14.5/14.6: attributes after MESSAGE-INTEGRITY(-SHA256) are ignored, except
            // MESSAGE-INTEGRITY-SHA256 after MESSAGE-INTEGRITY, and FINGERPRINT.
            boolean afterIntegrity = integrityIndex >= 0 || integritySha256Index >= 0;
            boolean keep = !afterIntegrity
                    || type == StunAttribute.FINGERPRINT
                    || (type == StunAttribute.MESSAGE_INTEGRITY_SHA256 && integritySha256Index < 0);
            if (keep) {
                if (count == MAX_ATTRIBUTES) {
                    return DecodeStatus.TOO_MANY_ATTRIBUTES;
                }
                switch (type) {
                    case StunAttribute.MESSAGE_INTEGRITY -> {
                        if (valueLength != 20) {
                            return DecodeStatus.MISPLACED_ATTRIBUTE;
                        }
                        integrityIndex = count;
                    }
                    case StunAttribute.MESSAGE_INTEGRITY_SHA256 -> {
                        if (valueLength < 16 || valueLength > 32 || (valueLength & 3) != 0) {
                            return DecodeStatus.MISPLACED_ATTRIBUTE;
                        }
                        integritySha256Index = count;
                    }
                    case StunAttribute.FINGERPRINT -> {
                        if (valueLength != 4) {
                            return DecodeStatus.MISPLACED_ATTRIBUTE;
                        }
                        fingerprintIndex = count;
                    }
                    default -> {}
                }
                types[count] = type;
                valueOffsets[count] = valueOffset;
                valueLengths[count] = valueLength;
                count++;
            }
            position = valueOffset + padded;
        }
        return DecodeStatus.OK;
    }

    public ByteBuffer buffer() {
        return buffer;
    }

    public int offset() {
        return start;
    }

    public int length() {
        return messageLength;
    }

    public int messageType() {
        return u16(start);
    }

    public int method() {
        return StunMethod.methodOf(messageType());
    }

    public int messageClass() {
        return StunMethod.classOf(messageType());
    }

    /** The first 8 of the 12 transaction id bytes, big-endian. */
    public long transactionIdHigh() {
        return buffer.getLong(start + 8);
    }

    /** The last 4 of the 12 transaction id bytes, big-endian. */
    public int transactionIdLow() {
        return buffer.getInt(start + 16);
    }

    public int attributeCount() {
        return count;
    }

    public int attributeType(int index) {
        return types[index];
    }

    public int valueOffset(int index) {
        return valueOffsets[index];
    }

    public int valueLength(int index) {
        return valueLengths[index];
    }

    /** Index of the first attribute of this type, or -1. */
    public int indexOf(int type) {
        return indexOf(type, 0);
    }

    /** Index of the first attribute of this type at or after {@code from}, or -1. */
    public int indexOf(int type, int from) {
        for (int i = from; i < count; i++) {
            if (types[i] == type) {
                return i;
            }
        }
        return -1;
    }

    public boolean has(int type) {
        return indexOf(type) >= 0;
    }

    public int integrityIndex() {
        return integrityIndex;
    }

    public int integritySha256Index() {
        return integritySha256Index;
    }

    public int fingerprintIndex() {
        return fingerprintIndex;
    }

    /** Offset of the attribute header (type) of attribute {@code index}. */
    public int attributeOffset(int index) {
        return valueOffsets[index] - 4;
    }

    /**
     * The first comprehension-required attribute this server does not understand, collected into
     * {@code into}; answers how many there are (RFC 8489 §6.3.1: 420 with UNKNOWN-ATTRIBUTES).
     */
    public int unknownComprehensionRequired(int[] into) {
        int n = 0;
        for (int i = 0; i < count && n < into.length; i++) {
            if (!StunAttribute.isUnderstood(types[i])) {
                into[n++] = types[i];
            }
        }
        return n;
    }

    /** A 32-bit attribute value (LIFETIME, REQUESTED-TRANSPORT...), or {@code missing} if absent or short. */
    public long u32Value(int type, long missing) {
        int i = indexOf(type);
        if (i < 0 || valueLengths[i] < 4) {
            return missing;
        }
        return buffer.getInt(valueOffsets[i]) & 0xFFFFFFFFL;
    }

    /** The first byte of an attribute's value, or -1 when absent or empty. */
    public int firstByte(int type) {
        int i = indexOf(type);
        if (i < 0 || valueLengths[i] < 1) {
            return -1;
        }
        return buffer.get(valueOffsets[i]) & 0xFF;
    }

    /** Copies an attribute's value out (control plane only: this allocates). */
    public byte[] bytes(int index) {
        byte[] out = new byte[valueLengths[index]];
        buffer.get(valueOffsets[index], out);
        return out;
    }

    /** A UTF-8 attribute value (USERNAME, REALM, NONCE, SOFTWARE), or null when absent. Allocates. */
    public String string(int type) {
        int i = indexOf(type);
        return i < 0 ? null : new String(bytes(i), StandardCharsets.UTF_8);
    }

    // RFC 8489 §14.2, XOR-MAPPED-ADDRESS (and every XOR-*-ADDRESS of RFC 8656)
    //  0                   1                   2                   3
    // |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
    // |                X-Address (Variable)
    // The port is XORed with the cookie's top 16 bits; an IPv4 address with the cookie, an IPv6 address
    // with the cookie followed by the transaction id.
    /**
     * Decodes the XOR address attribute at {@code index}; null when its family or length is malformed.
     * Allocates (an InetSocketAddress): for the control plane and Send indications.
     */
    public InetSocketAddress xorAddress(int index) {
        int value = valueOffsets[index];
        int length = valueLengths[index];
        if (length < 4) {
            return null;
        }
        int family = buffer.get(value + 1) & 0xFF;
        int port = u16(value + 2) ^ (MAGIC_COOKIE >>> 16);
        try {
            if (family == TurnAttributes.FAMILY_IPV4 && length == 8) {
                int ip = buffer.getInt(value + 4) ^ MAGIC_COOKIE;
                byte[] b = {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
                return new InetSocketAddress(InetAddress.getByAddress(b), port);
            }
            if (family == TurnAttributes.FAMILY_IPV6 && length == 20) {
                byte[] b = new byte[16];
                for (int i = 0; i < 16; i++) {
                    b[i] = (byte) (buffer.get(value + 4 + i) ^ buffer.get(start + 4 + i));
                }
                return new InetSocketAddress(Inet6Address.getByAddress(null, b, -1), port);
            }
        } catch (UnknownHostException impossible) {
            return null; // getByAddress throws only for a wrong array length, which the checks above exclude
        }
        return null;
    }

    /** Decodes a plain (non-XOR) address attribute such as MAPPED-ADDRESS; null when malformed. */
    public InetSocketAddress plainAddress(int index) {
        int value = valueOffsets[index];
        int length = valueLengths[index];
        if (length < 4) {
            return null;
        }
        int family = buffer.get(value + 1) & 0xFF;
        int port = u16(value + 2);
        int ipLength = family == TurnAttributes.FAMILY_IPV4 ? 4 : family == TurnAttributes.FAMILY_IPV6 ? 16 : -1;
        if (ipLength < 0 || length != 4 + ipLength) {
            return null;
        }
        byte[] b = new byte[ipLength];
        buffer.get(value + 4, b);
        try {
            InetAddress ip = ipLength == 4 ? Inet4Address.getByAddress(b) : Inet6Address.getByAddress(null, b, -1);
            return new InetSocketAddress(ip, port);
        } catch (UnknownHostException impossible) {
            return null;
        }
    }

    /** ERROR-CODE's number (class * 100 + number), or -1 when absent or malformed (RFC 8489 §14.8). */
    public int errorCode() {
        int i = indexOf(StunAttribute.ERROR_CODE);
        if (i < 0 || valueLengths[i] < 4) {
            return -1;
        }
        int v = valueOffsets[i];
        return (buffer.get(v + 2) & 0x07) * 100 + (buffer.get(v + 3) & 0xFF);
    }

    /** ERROR-CODE's reason phrase (UTF-8 after the 4-byte code), or null when absent or malformed. Allocates. */
    public String errorReason() {
        int i = indexOf(StunAttribute.ERROR_CODE);
        if (i < 0 || valueLengths[i] < 4) {
            return null;
        }
        byte[] reason = new byte[valueLengths[i] - 4];
        buffer.get(valueOffsets[i] + 4, reason);
        return new String(reason, StandardCharsets.UTF_8);
    }

    private int u16(int absolute) {
        return buffer.getShort(absolute) & 0xFFFF;
    }
}
