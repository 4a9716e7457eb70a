package dev.turnpike.core.stun;

import java.nio.ByteBuffer;

/**
 * Readers for the TURN and STUN attribute values whose bits mean something beyond their bytes, each under its
 * RFC diagram. Every reader checks the value's length first and answers "absent" or "malformed" instead of
 * reading past it; none allocates.
 */
public final class TurnAttributes {
    /** RFC 8489 §14.1: the family byte of an address attribute (and of REQUESTED-ADDRESS-FAMILY, RFC 8656 §18.10). */
    public static final int FAMILY_IPV4 = 0x01;

    public static final int FAMILY_IPV6 = 0x02;

    private TurnAttributes() {}

    /** What an EVEN-PORT attribute asks for. */
    public enum EvenPort {
        ABSENT,
        /** An even port. */
        EVEN,
        /** An even port, and the next one up held for a later Allocate (the R bit). */
        EVEN_AND_RESERVE_NEXT,
        /** Present but empty: no R bit to read. */
        MALFORMED
    }

    // RFC 8656 §18.8 EVEN-PORT
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+
    // |R|    RFFU     |
    // +-+-+-+-+-+-+-+-+
    public static EvenPort evenPort(StunMessage message) {
        int index = message.indexOf(StunAttribute.EVEN_PORT);
        if (index < 0) {
            return EvenPort.ABSENT;
        }
        if (message.valueLength(index) < 1) {
            return EvenPort.MALFORMED;
        }
        return (message.buffer().get(message.valueOffset(index)) & 0x80) != 0
                ? EvenPort.EVEN_AND_RESERVE_NEXT
                : EvenPort.EVEN;
    }

    // RFC 8656 §18.2 CHANNEL-NUMBER
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |        Channel Number         |         RFFU = 0              |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /** The channel number, or -1 when the attribute is absent or shorter than 4 bytes. */
    public static int channelNumber(StunMessage message) {
        long value = message.u32Value(StunAttribute.CHANNEL_NUMBER, -1);
        return value < 0 ? -1 : (int) (value >>> 16);
    }

    // RFC 8656 §18.9 RESERVATION-TOKEN: 8 opaque bytes
    /** Whether the message carries a RESERVATION-TOKEN of exactly 8 bytes. */
    public static boolean hasReservationToken(StunMessage message) {
        int index = message.indexOf(StunAttribute.RESERVATION_TOKEN);
        return index >= 0 && message.valueLength(index) == 8;
    }

    /** The token; only after {@link #hasReservationToken} said there is one. */
    public static long reservationToken(StunMessage message) {
        int index = message.indexOf(StunAttribute.RESERVATION_TOKEN);
        return message.buffer().getLong(message.valueOffset(index));
    }

    // RFC 8489 §14.11 PASSWORD-ALGORITHM
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |          Algorithm           |  Algorithm Parameters Length   |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                    Algorithm Parameters (variable)
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /** The algorithm chosen, or -1 when the attribute is absent or shorter than its 4-byte header. */
    public static int passwordAlgorithm(StunMessage message) {
        int index = message.indexOf(StunAttribute.PASSWORD_ALGORITHM);
        if (index < 0 || message.valueLength(index) < 4) {
            return -1;
        }
        return message.buffer().getShort(message.valueOffset(index)) & 0xFFFF;
    }

    // RFC 8489 §14.12 PASSWORD-ALGORITHMS: a list of PASSWORD-ALGORITHM values as above
    /**
     * Whether PASSWORD-ALGORITHMS lists exactly {@code first} then {@code second}, each with no parameters: the
     * list a server offered, echoed back unchanged (RFC 8489 §9.2.4 asks the server to check that).
     */
    public static boolean passwordAlgorithmsAre(StunMessage message, int first, int second) {
        int index = message.indexOf(StunAttribute.PASSWORD_ALGORITHMS);
        if (index < 0 || message.valueLength(index) != 8) {
            return false;
        }
        int at = message.valueOffset(index);
        ByteBuffer b = message.buffer();
        return b.getInt(at) == (first << 16) && b.getInt(at + 4) == (second << 16);
    }

    // RFC 8489 §14.2 XOR-MAPPED-ADDRESS (and XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS, RFC 8656 §18.3, §18.5)
    //  0                   1                   2                   3
    //  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |0 0 0 0 0 0 0 0|    Family     |         X-Port                |
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    // |                X-Address (Variable)
    // +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
    /** The port of an XOR address whose value starts at {@code valueOffset} (at least 4 bytes): X-Port ^ 0x2112. */
    public static int xorPort(ByteBuffer buffer, int valueOffset) {
        return (buffer.getShort(valueOffset + 2) & 0xFFFF) ^ (StunMessage.MAGIC_COOKIE >>> 16);
    }
}
