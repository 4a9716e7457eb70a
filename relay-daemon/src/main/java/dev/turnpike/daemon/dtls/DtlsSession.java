package dev.turnpike.daemon.dtls;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * DTLS 1.2 with one client (RFC 6347, TURN over it: RFC 7350), the JDK's {@link SSLEngine} in DTLS mode driven by
 * the loop: each datagram read is unwrapped record by record, each record's plaintext one STUN or ChannelData
 * message; each message sent is one record in one datagram. The handshake's flights are produced as the engine
 * asks; a flight the client did not answer is sent again when the loop's sweep finds it waiting ({@link
 * #retransmit}), the JDK's way: a wrap while the engine waits to unwrap returns the last flight. Every step is
 * bounded: an engine that makes no progress ends the session, never the loop.
 */
final class DtlsSession {
    /** Where a session's output goes: packets for the client, and messages from it for the core. */
    interface Output {
        void packet(DtlsSession session, ByteBuffer packet);

        void message(DtlsSession session, ByteBuffer plaintext);
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** Engine steps for one datagram: far more than a flight's records ever take. */
    private static final int MAX_PASSES = 256;

    private static final int HANDSHAKE = 22;
    private static final int HELLO_VERIFY_REQUEST = 3;

    final SSLEngine engine;
    final int listener;
    final InetSocketAddress client;
    final long startedNs;
    long lastHeardNs;
    /** The handshake has finished: messages flow, and the session ending ends the client's allocation. */
    boolean established;
    /** Its finished handshake has been counted. */
    boolean counted;
    /** Packets sent for it: a new session whose first ClientHello got no answer at all proved nothing. */
    int packetsOut;
    /** The random of the ClientHello it began with: the same hello again is a retransmission, not a new start. */
    byte[] clientRandom;
    /** The engine answered a ClientHello with a HelloVerifyRequest: its cookie was not the relay's. */
    boolean cookieRefused;

    DtlsSession(SSLEngine engine, int listener, InetSocketAddress client, long nowNs) {
        this.engine = engine;
        this.listener = listener;
        this.client = client;
        this.startedNs = nowNs;
        this.lastHeardNs = nowNs;
        engine.setUseClientMode(false);
    }

    /**
     * Takes a datagram from the client (position to limit): the handshake answered, messages handed on. False when
     * the client closed the session (close_notify).
     */
    boolean receive(ByteBuffer datagram, ByteBuffer plain, ByteBuffer out, Output to, long nowNs) throws SSLException {
        lastHeardNs = nowNs;
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            HandshakeStatus status = engine.getHandshakeStatus();
            switch (status) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> flight(out, to);
                case NEED_UNWRAP_AGAIN -> {
                    plain.clear();
                    SSLEngineResult result = engine.unwrap(EMPTY, plain);
                    if (!deliver(result, plain, to)) {
                        return false;
                    }
                }
                default -> {
                    if (!datagram.hasRemaining()) {
                        return true;
                    }
                    plain.clear();
                    SSLEngineResult result = engine.unwrap(datagram, plain);
                    if (!deliver(result, plain, to)) {
                        return false;
                    }
                    if (result.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) {
                        return true; // a cut record: the rest of the datagram is dropped, as DTLS does
                    }
                    if (result.bytesConsumed() == 0
                            && result.bytesProduced() == 0
                            && engine.getHandshakeStatus() == status) {
                        return true; // nothing moved: nothing more in this datagram for the engine
                    }
                }
            }
        }
        throw new SSLException("the DTLS engine makes no progress");
    }

    private boolean deliver(SSLEngineResult result, ByteBuffer plain, Output to) {
        if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
            established = true;
        }
        if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
            return false;
        }
        plain.flip();
        if (plain.hasRemaining()) {
            to.message(this, plain);
        }
        return true;
    }

    /** Sends what the engine has to send now (a flight of the handshake), one packet a wrap. */
    void flight(ByteBuffer out, Output to) throws SSLException {
        for (int pass = 0; pass < MAX_PASSES && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP; pass++) {
            if (!wrapOnce(EMPTY, out, to)) {
                return;
            }
        }
    }

    /** The handshake waits on the client: the last flight again (the JDK resends on a wrap while it waits). */
    void retransmit(ByteBuffer out, Output to) throws SSLException {
        if (established || engine.getHandshakeStatus() != HandshakeStatus.NEED_UNWRAP) {
            return;
        }
        for (int pass = 0; pass < MAX_PASSES; pass++) {
            if (!wrapOnce(EMPTY, out, to)) {
                return;
            }
        }
    }

    private boolean wrapOnce(ByteBuffer plain, ByteBuffer out, Output to) throws SSLException {
        out.clear();
        SSLEngineResult result = engine.wrap(plain, out);
        if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
            established = true;
        }
        out.flip();
        if (!out.hasRemaining()) {
            return false;
        }
        if (!established && out.remaining() > 13 && out.get(0) == HANDSHAKE && out.get(13) == HELLO_VERIFY_REQUEST) {
            cookieRefused = true;
        }
        to.packet(this, out);
        if (engine.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        return result.getStatus() == SSLEngineResult.Status.OK;
    }

    /**
     * Encrypts one message (position to limit) into {@code out} as one record. False when it does not fit one (a
     * message larger than a record's plaintext: dropped and counted by the caller) or the session is not open.
     */
    boolean encrypt(ByteBuffer message, ByteBuffer out) throws SSLException {
        if (!established) {
            return false;
        }
        int length = message.remaining();
        out.clear();
        SSLEngineResult result = engine.wrap(message, out);
        out.flip();
        return result.getStatus() == SSLEngineResult.Status.OK && result.bytesConsumed() == length;
    }

    /** Says goodbye (close_notify) as far as one packet goes; the session ends either way. */
    void close(ByteBuffer out, Output to) {
        engine.closeOutbound();
        try {
            wrapOnce(EMPTY, out, to);
        } catch (SSLException | RuntimeException e) {
            // ending anyway
        }
    }

    private void runTasks() {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
        }
    }
}
