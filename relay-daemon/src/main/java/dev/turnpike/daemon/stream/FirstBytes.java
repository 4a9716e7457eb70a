package dev.turnpike.daemon.stream;

import dev.turnpike.core.stun.StunMessage;
import java.nio.ByteBuffer;

/**
 * Tells TURN from a web client on a port shared with a web site (--https-backend), by the first bytes after the
 * TLS handshake. A TURN client's first message on a connection is always a STUN request (Binding or Allocate):
 * ChannelData needs a channel bound on that connection first. So the test is STUN's alone, two zero bits and the
 * magic cookie in the first 8 bytes, and never "could this be ChannelData": "GET /" would pass for channel 0x4745,
 * as would every HTTP method's first letter but P. An HTTP/2 preface ("PRI * HTTP/2.0") and any HTTP/1 request
 * line fail the test at their first or fifth byte.
 */
final class FirstBytes {
    /** {@link #classify}: a STUN header: TURN, framed by the relay. */
    static final int TURN = 0;
    /** {@link #classify}: not STUN: the web server's. */
    static final int WEB = 1;
    /** {@link #classify}: fewer than 8 bytes so far, all of them as STUN's could be. */
    static final int NEED_MORE = 2;

    private static final int DECIDES = 8;
    private static final byte[] COOKIE = {0x21, 0x12, (byte) 0xA4, 0x42};

    private FirstBytes() {}

    /** Classifies the first {@code filled} bytes of {@code in} (absolute, from 0). */
    static int classify(ByteBuffer in, int filled) {
        if (filled >= DECIDES) {
            return StunMessage.startsLikeStun(in, 0) ? TURN : WEB;
        }
        if (filled >= 1 && (in.get(0) & 0xC0) != 0) {
            return WEB;
        }
        for (int i = 4; i < filled; i++) {
            if (in.get(i) != COOKIE[i - 4]) {
                return WEB;
            }
        }
        return NEED_MORE;
    }
}
