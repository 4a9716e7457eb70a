package dev.turnpike.daemon.stream;

import dev.turnpike.core.stun.StreamFraming;
import dev.turnpike.daemon.loop.LoopCounters;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * What the relay sends stream clients, written as the loop's passes end: a connection's messages of one pass
 * gathered ({@link Gathering}) and written together, in one {@code write}, where each was a {@code write} of its
 * own; over TLS each message is still a record of its own, sealed as it is sent. What the socket does not take
 * waits in the connection's bounded queue; past the bound the connection is closed. Loop thread only.
 */
final class StreamWrites {
    private final LoopCounters counters;
    private final StreamCloser closer;
    private final Gathering gathering = new Gathering();

    StreamWrites(LoopCounters counters, StreamCloser closer) {
        this.counters = counters;
        this.closer = closer;
    }

    /**
     * Sends {@code bytes} (a whole message, position to limit) to {@code c} by the pass's end, in order; {@code
     * alone}: at once, in a write (a TLS record) of its own, after what was gathered before it. Control messages
     * (responses, indications) go alone: they are few, and coturn's turnutils_uclient takes a TLS record for one
     * message, missing a ConnectionAttempt that shares a record with a Connect response.
     */
    void send(StreamConnection c, ByteBuffer bytes, long maxQueued, boolean alone) {
        if (alone) {
            if (c.gathered != null) {
                writeGathered(c, maxQueued);
            }
            writeNow(c, bytes, maxQueued);
            return;
        }
        // over TLS a message is sealed at once into a record of its own, and the records are what is gathered: one
        // write for the pass, a record for each message, as clients that read a record as a message need
        int room = c.tls == null ? bytes.remaining() : bytes.remaining() + TlsSession.SEAL_ROOM;
        if (c.gathered != null && c.gathered.remaining() < room) {
            writeGathered(c, maxQueued); // full: what it holds goes first, in order
        }
        if (c.closed || (c.tls != null && !c.tls.handshakeDone()) || (c.gathered == null && !gathering.lend(c, room))) {
            if (c.gathered != null) {
                writeGathered(c, maxQueued); // still handshaking: what came before goes first
            }
            writeNow(c, bytes, maxQueued); // larger than a buffer, or every buffer lent: written at once
            return;
        }
        if (c.tls == null) {
            c.gathered.put(bytes);
            return;
        }
        try {
            c.tls.seal(bytes, c.gathered);
        } catch (IOException | RuntimeException e) {
            closer.close(c, LoopCounters.StreamClose.ERROR);
        }
    }

    /** The pass is over: each connection's gathered messages are written. */
    void endOfPass(long maxQueued) {
        for (StreamConnection c = gathering.next(); c != null; c = gathering.next()) {
            if (c.gathered != null) {
                writeGathered(c, maxQueued);
            }
        }
    }

    /** {@code c} is closing: what it gathered is lost with it, and its buffer is free. */
    void dropped(StreamConnection c) {
        if (c.gathered != null) {
            gathering.reuse(gathering.takeBack(c));
        }
    }

    /** Writes what {@code c} gathered: plaintext over TCP, records already sealed over TLS. */
    private void writeGathered(StreamConnection c, long maxQueued) {
        ByteBuffer bytes = gathering.takeBack(c);
        write(c, bytes, maxQueued, false);
        gathering.reuse(bytes);
    }

    /** Writes {@code bytes} (plaintext, for TLS) or queues what the socket will not take; closes {@code c} past the bound. */
    private void writeNow(StreamConnection c, ByteBuffer bytes, long maxQueued) {
        write(c, bytes, maxQueued, c.tls != null);
    }

    private void write(StreamConnection c, ByteBuffer bytes, long maxQueued, boolean encrypt) {
        if (c.closed) {
            counters.sendErrors++;
            return;
        }
        try {
            boolean queued =
                    encrypt ? c.tls.encrypt(bytes, c, maxQueued, counters) : c.write(bytes, maxQueued, counters);
            if (!queued) {
                closer.close(c, LoopCounters.StreamClose.WRITE_QUEUE_FULL);
            }
        } catch (IOException e) {
            closer.close(c, LoopCounters.StreamClose.ERROR);
        }
    }

    /**
     * Pads ChannelData (position to limit) to a multiple of 4 as a stream needs (RFC 8656 §12.5): the padding is
     * written behind the limit, in the tailroom the core leaves there.
     */
    static void pad(ByteBuffer bytes) {
        int end = bytes.limit();
        int padding = StreamFraming.channelDataPadding(end - bytes.position());
        bytes.limit(end + padding); // first: an absolute put is checked against the limit
        for (int i = 0; i < padding; i++) {
            bytes.put(end + i, (byte) 0);
        }
    }
}
