package dev.turnpike.daemon.stream;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;

/**
 * Write coalescing for streams: the messages the loop sends one connection during a pass are gathered and written
 * together at the pass's end, one {@code write} where there were as many as messages (over TLS the buffer holds
 * their records, each message sealed in one of its own as it is sent). A lone message waits for nothing but the end of the pass it was sent in (the loop flushes before it
 * ever blocks). The buffers are lent per pass and come back: none is allocated in a steady state, an idle
 * connection holds none, and at most {@link #MAX_LENT} are lent at once (1 MiB a worker); past that, or for a
 * message larger than a buffer, a message is written at once as before. Loop thread only.
 */
final class Gathering {
    /** A TLS record's largest plaintext (RFC 8446 §5.1): a buffer's messages, or their records, fit one write. */
    static final int BUFFER_BYTES = 16_384;
    /** Connections that may gather at once. */
    static final int MAX_LENT = 64;

    private final ArrayDeque<ByteBuffer> spare = new ArrayDeque<>();
    /** Connections lent a buffer this pass, in the order they were; {@link #next} walks them. */
    private final ArrayList<StreamConnection> lent = new ArrayList<>();

    private int lentNow;

    /**
     * Lends {@code c} a buffer for a message of {@code bytes} ({@code c.gathered}); false when the message would not
     * fit one or every buffer is lent.
     */
    boolean lend(StreamConnection c, int bytes) {
        if (bytes > BUFFER_BYTES || lentNow >= MAX_LENT) {
            return false;
        }
        ByteBuffer b = spare.poll();
        c.gathered = b != null ? b : ByteBuffer.allocateDirect(BUFFER_BYTES);
        lentNow++;
        lent.add(c);
        return true;
    }

    /** {@code c}'s gathered bytes, ready to be read (position to limit); {@code c} holds no buffer after. */
    ByteBuffer takeBack(StreamConnection c) {
        ByteBuffer b = c.gathered;
        c.gathered = null;
        return b.flip();
    }

    /** {@code b}, written (or dropped with its connection), is free for the next connection. */
    void reuse(ByteBuffer b) {
        b.clear();
        spare.push(b);
        lentNow--;
    }

    /** The next connection lent a buffer this pass (it may have given it back already), or null: the pass is over. */
    StreamConnection next() {
        if (lent.isEmpty()) {
            return null;
        }
        return lent.removeLast();
    }
}
