package dev.turnpike.daemon.dtls;

import java.nio.ByteBuffer;

/**
 * Reads, without keeping anything, whether a datagram from a source the relay has no DTLS session with starts a
 * handshake, and whether that ClientHello carries a cookie (RFC 6347 §4.2.1): the figure is a DTLS record header
 * (13 bytes: type 22, version, epoch, sequence number, length), a handshake header (12 bytes: type 1, length,
 * message_seq, fragment offset and length), then client_version (2), random (32), session_id (1 + up to 32) and
 * cookie (1 + up to 255). Every length is checked before it is read; anything else is not a ClientHello.
 */
final class ClientHello {
    /** {@link #classify}: not the start of a handshake: dropped, counted. */
    static final int NOT_CLIENT_HELLO = 0;
    /** {@link #classify}: a ClientHello without a cookie: answered statelessly with a HelloVerifyRequest. */
    static final int WITHOUT_COOKIE = 1;
    /** {@link #classify}: a ClientHello with a cookie: a session may begin, if the cookie is the relay's. */
    static final int WITH_COOKIE = 2;
    /**
     * {@link #classify}: a ClientHello offering DTLS 1.0 at most (RFC 8996 deprecates it): answered statelessly
     * with a protocol_version alert, so that the client fails at once instead of waiting out its retransmissions
     * (coturn's turnutils_uclient picks DTLS 1.0 or 1.2 at random for each try, and tries again).
     */
    static final int TOO_OLD = 3;

    private static final int DTLS_1_0 = 0xFEFF;

    private static final int HANDSHAKE = 22;
    private static final int CLIENT_HELLO = 1;
    private static final int RECORD_HEADER = 13;
    private static final int HANDSHAKE_HEADER = 12;

    private ClientHello() {}

    /** Classifies the datagram from position to limit of {@code d} (absolute reads; {@code d} is not moved). */
    static int classify(ByteBuffer d) {
        int p = d.position();
        int end = d.limit();
        if (end - p < RECORD_HEADER + HANDSHAKE_HEADER + 2 + 32 + 1
                || d.get(p) != HANDSHAKE
                || (d.get(p + 1) & 0xFF) != 0xFE // DTLS 1.x: the major version is 254
                || d.getShort(p + 3) != 0) { // epoch 0: no session yet
            return NOT_CLIENT_HELLO;
        }
        int recordEnd = p + RECORD_HEADER + (d.getShort(p + 11) & 0xFFFF);
        int h = p + RECORD_HEADER;
        if (recordEnd > end || d.get(h) != CLIENT_HELLO || (d.getInt(h + 6) >>> 8) != 0) { // the first fragment
            return NOT_CLIENT_HELLO;
        }
        if ((d.getShort(h + HANDSHAKE_HEADER) & 0xFFFF) == DTLS_1_0) {
            return TOO_OLD;
        }
        int sessionIdAt = h + HANDSHAKE_HEADER + 2 + 32;
        int sessionId = d.get(sessionIdAt) & 0xFF;
        int cookieAt = sessionIdAt + 1 + sessionId;
        if (sessionId > 32 || cookieAt >= recordEnd) {
            return NOT_CLIENT_HELLO;
        }
        int cookie = d.get(cookieAt) & 0xFF;
        if (cookieAt + 1 + cookie > recordEnd) {
            return NOT_CLIENT_HELLO;
        }
        return cookie == 0 ? WITHOUT_COOKIE : WITH_COOKIE;
    }

    /**
     * The first ClientHello of the exchange that led to {@code d}, a whole ClientHello with a cookie in one record
     * (classified {@link #WITH_COOKIE}): the same bytes without the cookie, message_seq 0 and the record before it,
     * as RFC 6347 §4.2.1 has the client send them. A new engine is shown it before the real one so that it stands
     * where the client does, past the HelloVerifyRequest it never saw (the relay kept nothing of the first); null
     * when {@code d} holds a fragment, not the whole message.
     */
    static ByteBuffer firstOf(ByteBuffer d) {
        int p = d.position();
        int h = p + RECORD_HEADER;
        int length = d.getInt(h) & 0xFFFFFF;
        int fragmentLength = d.getInt(h + 8) & 0xFFFFFF;
        int recordLength = d.getShort(p + 11) & 0xFFFF;
        if (fragmentLength != length || recordLength != HANDSHAKE_HEADER + length) {
            return null;
        }
        int cookieAt = h + HANDSHAKE_HEADER + 2 + 32 + 1 + (d.get(h + HANDSHAKE_HEADER + 2 + 32) & 0xFF);
        int cookie = d.get(cookieAt) & 0xFF;
        int end = p + RECORD_HEADER + recordLength;
        ByteBuffer first = ByteBuffer.allocate(end - p - cookie);
        first.put(d.duplicate().position(p).limit(cookieAt)); // headers, version, random, session id
        first.put((byte) 0); // no cookie
        first.put(d.duplicate().position(cookieAt + 1 + cookie).limit(end)); // the rest as it was
        long sequence = ((long) (d.getShort(p + 5) & 0xFFFF) << 32) | (d.getInt(p + 7) & 0xFFFFFFFFL);
        long before = Math.max(0, sequence - 1);
        first.putShort(5, (short) (before >>> 32)).putInt(7, (int) before);
        first.putShort(11, (short) (recordLength - cookie));
        putUint24(first, RECORD_HEADER + 1, length - cookie);
        first.putShort(RECORD_HEADER + 4, (short) 0); // message_seq
        putUint24(first, RECORD_HEADER + 6, 0);
        putUint24(first, RECORD_HEADER + 9, length - cookie);
        return first.flip();
    }

    private static void putUint24(ByteBuffer b, int at, int value) {
        b.put(at, (byte) (value >>> 16)).put(at + 1, (byte) (value >>> 8)).put(at + 2, (byte) value);
    }

    /**
     * Writes into {@code out} the fatal protocol_version alert (RFC 5246 §7.2) answering the ClientHello {@code d}
     * ({@link #TOO_OLD}): in the client's record version and with its record sequence number, as a
     * HelloVerifyRequest would be.
     */
    static void protocolVersionAlert(ByteBuffer d, ByteBuffer out) {
        int p = d.position();
        out.clear();
        out.put((byte) 21); // alert
        out.putShort(d.getShort(p + 1)); // the client's record version
        out.putShort((short) 0); // epoch
        out.put(d.duplicate().position(p + 5).limit(p + 11)); // its sequence number
        out.putShort((short) 2);
        out.put((byte) 2); // fatal
        out.put((byte) 70); // protocol_version
        out.flip();
    }

    /**
     * Whether the ClientHello {@code d} (classified as one) carries {@code random}: the same handshake's hello sent
     * again, not a new handshake from the same address and port.
     */
    static boolean hasRandom(ByteBuffer d, byte[] random) {
        int at = d.position() + RECORD_HEADER + HANDSHAKE_HEADER + 2;
        return random != null && d.slice(at, random.length).equals(ByteBuffer.wrap(random));
    }

    /** The 32-byte random of the ClientHello {@code d} (classified as one). */
    static byte[] random(ByteBuffer d) {
        byte[] random = new byte[32];
        d.get(d.position() + RECORD_HEADER + HANDSHAKE_HEADER + 2, random);
        return random;
    }
}
