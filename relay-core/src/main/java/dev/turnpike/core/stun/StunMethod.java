package dev.turnpike.core.stun;

/** STUN methods (RFC 8489 §18.2, RFC 8656 §17) and the class bits folded into the message type. */
public final class StunMethod {
    public static final int BINDING = 0x001;
    public static final int ALLOCATE = 0x003;
    public static final int REFRESH = 0x004;
    public static final int SEND = 0x006;
    public static final int DATA = 0x007;
    public static final int CREATE_PERMISSION = 0x008;
    public static final int CHANNEL_BIND = 0x009;
    /** RFC 6062 §6.1: TCP relaying. */
    public static final int CONNECT = 0x00A;

    public static final int CONNECTION_BIND = 0x00B;
    public static final int CONNECTION_ATTEMPT = 0x00C;

    /** The method's name as the RFCs spell it, for logs; "0x..." for one this relay does not know. */
    public static String name(int method) {
        return switch (method) {
            case BINDING -> "Binding";
            case ALLOCATE -> "Allocate";
            case REFRESH -> "Refresh";
            case SEND -> "Send";
            case DATA -> "Data";
            case CREATE_PERMISSION -> "CreatePermission";
            case CHANNEL_BIND -> "ChannelBind";
            case CONNECT -> "Connect";
            case CONNECTION_BIND -> "ConnectionBind";
            case CONNECTION_ATTEMPT -> "ConnectionAttempt";
            default -> "0x" + Integer.toHexString(method);
        };
    }

    public static final int CLASS_REQUEST = 0b00;
    public static final int CLASS_INDICATION = 0b01;
    public static final int CLASS_SUCCESS = 0b10;
    public static final int CLASS_ERROR = 0b11;

    private StunMethod() {}

    // RFC 8489 §5: the 14-bit message type interleaves the 12 method bits with the 2 class bits.
    //   0                 1
    //   2  3  4 5 6 7 8 9 0 1 2 3 4 5
    //  +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
    //  |M |M |M|M|M|C|M|M|M|C|M|M|M|M|
    //  |11|10|9|8|7|1|6|5|4|0|3|2|1|0|
    //  +--+--+-+-+-+-+-+-+-+-+-+-+-+-+
    public static int messageType(int method, int messageClass) {
        return (method & 0x000F)
                | ((method & 0x0070) << 1)
                | ((method & 0x0F80) << 2)
                | ((messageClass & 0b01) << 4)
                | ((messageClass & 0b10) << 7);
    }

    public static int methodOf(int messageType) {
        return (messageType & 0x000F) | ((messageType & 0x00E0) >> 1) | ((messageType & 0x3E00) >> 2);
    }

    public static int classOf(int messageType) {
        return ((messageType >> 4) & 0b01) | ((messageType >> 7) & 0b10);
    }
}
