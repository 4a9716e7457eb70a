package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.loop.LoopCounters;
import java.io.IOException;
import java.nio.ByteBuffer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * TLS on one connection with the JDK's {@link SSLEngine}, driven by the loop: no thread of its own. Bytes read from
 * the socket are decrypted into the connection's plaintext buffer, where they are framed as any TCP client's
 * are; what the relay sends is encrypted and written (or queued) as TLS records. The handshake runs as the bytes
 * arrive; its delegated tasks (signatures) run inline, which the handshake rate limit keeps bounded.
 */
final class TlsSession {
    /** The connection a session's records travel on: where decrypted bytes go, and how records are written. */
    interface Connection {
        /** Makes room for at least {@code free} more bytes behind those already in {@link #plaintext}. */
        void reserve(int free);

        /** The buffer decrypted bytes are read into, the first {@link #filled} of them holding data. */
        ByteBuffer plaintext();

        int filled();

        void filled(int filled);

        /** Writes {@code bytes} or queues them; false when the queue would pass {@code maxQueued}. */
        boolean write(ByteBuffer bytes, long maxQueued, LoopCounters counters) throws IOException;
    }

    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** Engine steps for one read: far more than a read's records and handshake messages ever take. */
    private static final int MAX_PASSES = 1_024;

    private final SSLEngine engine;
    /** Encrypted bytes read and not yet decrypted, in write mode (position: how many). */
    private ByteBuffer netIn;

    private ByteBuffer netOut;

    TlsSession(SSLEngine engine) {
        this.engine = engine;
        engine.setUseClientMode(false);
        int packet = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocate(packet);
        this.netOut = ByteBuffer.allocate(packet);
    }

    /** The protocol ALPN chose: null before the handshake is done, "" when none was. */
    String applicationProtocol() {
        return engine.getApplicationProtocol();
    }

    /** The buffer the socket's bytes are read into. */
    ByteBuffer readBuffer() {
        if (!netIn.hasRemaining()) {
            netIn = grow(netIn, engine.getSession().getPacketBufferSize());
        }
        return netIn;
    }

    /**
     * Decrypts what has been read into {@code c}'s plaintext buffer, answering the handshake as it goes. False once
     * the client has closed TLS (close_notify).
     */
    boolean decrypt(Connection c, long maxQueued, LoopCounters counters) throws IOException {
        netIn.flip();
        try {
            // Every pass consumes or produces bytes, or returns; the bound makes that a proof, not a hope: an
            // engine that asks to wrap and produces nothing would otherwise hold the loop for ever.
            for (int pass = 0; ; pass++) {
                if (pass > MAX_PASSES) {
                    throw new javax.net.ssl.SSLException("the TLS engine makes no progress");
                }
                HandshakeStatus status = engine.getHandshakeStatus();
                if (status == HandshakeStatus.NEED_TASK) {
                    runTasks();
                    continue;
                }
                if (status == HandshakeStatus.NEED_WRAP) {
                    if (!encrypt(EMPTY, c, maxQueued, counters)) {
                        throw new IOException("the client does not read the handshake");
                    }
                    continue;
                }
                if (!netIn.hasRemaining()) {
                    return true;
                }
                c.reserve(engine.getSession().getApplicationBufferSize());
                ByteBuffer plain = c.plaintext();
                plain.limit(plain.capacity()).position(c.filled());
                SSLEngineResult result = engine.unwrap(netIn, plain);
                c.filled(plain.position());
                if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                    counters.tlsHandshakes++;
                }
                switch (result.getStatus()) {
                    case BUFFER_UNDERFLOW -> {
                        return true; // the rest of a record is still on its way
                    }
                    case CLOSED -> {
                        return false;
                    }
                    case BUFFER_OVERFLOW, OK -> {
                        if (result.bytesConsumed() == 0
                                && result.bytesProduced() == 0
                                && result.getStatus() == SSLEngineResult.Status.OK
                                && engine.getHandshakeStatus() == status) {
                            return true; // nothing moved: wait for more bytes
                        }
                    }
                }
            }
        } finally {
            netIn.compact();
        }
    }

    /**
     * Encrypts {@code plain} (all of it) and writes the records, or queues them. False when the connection's write
     * queue would pass {@code maxQueued}.
     */
    boolean encrypt(ByteBuffer plain, Connection c, long maxQueued, LoopCounters counters) throws IOException {
        while (true) {
            netOut.clear();
            SSLEngineResult result = engine.wrap(plain, netOut);
            if (result.getHandshakeStatus() == HandshakeStatus.FINISHED) {
                counters.tlsHandshakes++;
            }
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                netOut = grow(netOut, engine.getSession().getPacketBufferSize());
                continue;
            }
            netOut.flip();
            if (netOut.hasRemaining() && !c.write(netOut, maxQueued, counters)) {
                return false;
            }
            if (engine.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                runTasks();
            }
            boolean moved = result.bytesConsumed() > 0 || result.bytesProduced() > 0;
            if (!moved || result.getStatus() == SSLEngineResult.Status.CLOSED) {
                return true;
            }
            if (!plain.hasRemaining() && engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP) {
                return true;
            }
        }
    }

    /**
     * Room to leave in a gathered buffer beyond a message's own length for it sealed: a record's header, explicit
     * nonce and tag (29 bytes at most in TLS 1.2, 22 in 1.3), and room for a small record the engine may put first
     * (a KeyUpdate).
     */
    static final int SEAL_ROOM = 256;

    /** Whether messages may be sealed ({@link #seal}): the handshake is over (a gathered buffer bounds their size). */
    boolean handshakeDone() {
        return engine.getHandshakeStatus() == HandshakeStatus.NOT_HANDSHAKING;
    }

    /**
     * Encrypts one message (position to limit) as one record of its own, appended to {@code into}, which the
     * caller has left {@link #SEAL_ROOM} more than the message's length: the records of a pass are written
     * together, yet each message keeps a record to itself, as coturn's turnutils_uclient reads them (a record for
     * a message: it misses any message after the first in a record, against coturn too, with which it loses 13-33%
     * of them at a message a millisecond).
     */
    void seal(ByteBuffer plain, ByteBuffer into) throws IOException {
        for (int pass = 0; pass < 4 && plain.hasRemaining(); pass++) {
            netOut.clear();
            SSLEngineResult result = engine.wrap(plain, netOut);
            netOut.flip();
            if (netOut.remaining() > into.remaining()) {
                throw new SSLException("a sealed record larger than the room left for it");
            }
            into.put(netOut); // whatever the engine produced is the stream's next bytes, in order
            if (result.getStatus() != SSLEngineResult.Status.OK) {
                throw new SSLException("TLS wrap: " + result.getStatus());
            }
        }
        if (plain.hasRemaining()) {
            throw new SSLException("the TLS engine makes no progress sealing a message");
        }
    }

    /** Says goodbye (close_notify), as far as the socket takes it now; the connection closes either way. */
    void close(Connection c, LoopCounters counters) {
        engine.closeOutbound();
        try {
            encrypt(EMPTY, c, Long.MAX_VALUE, counters);
        } catch (IOException | RuntimeException e) {
            // closing anyway
        }
    }

    private void runTasks() {
        for (Runnable task = engine.getDelegatedTask(); task != null; task = engine.getDelegatedTask()) {
            task.run();
        }
    }

    private static ByteBuffer grow(ByteBuffer buffer, int atLeast) {
        ByteBuffer larger = ByteBuffer.allocate(Math.max(atLeast, buffer.capacity() * 2));
        buffer.flip();
        larger.put(buffer);
        return larger;
    }
}
