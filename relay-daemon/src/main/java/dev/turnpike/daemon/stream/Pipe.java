package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.loop.LoopCounters;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;

/**
 * Moves bytes through {@link Passage}s, both ways, on the loop's thread: the client's (plaintext) to the other side
 * as far as it takes them, the other side's to the client (encrypted at once for TLS) while the client has nothing
 * queued. One read buffer serves every passage. Neither side ever makes the loop wait for the other.
 */
final class Pipe {
    /** Bytes read from the other side at a time. */
    static final int READ_SIZE = 16 * 1024;

    private static final int READS_PER_READINESS = 8;

    private final LoopCounters counters;
    private final StreamCloser closer;
    private final ByteBuffer fromOther = ByteBuffer.allocateDirect(READ_SIZE);

    Pipe(LoopCounters counters, StreamCloser closer) {
        this.counters = counters;
        this.closer = closer;
    }

    /**
     * Writes the header and the client's bytes to the other side, as far as it takes them; holds the client while
     * any wait.
     */
    void toOther(Passage p, long nowNs) {
        StreamConnection c = p.client;
        if (!p.connected || c == null) {
            return;
        }
        try {
            if (p.header != null) {
                p.other.write(p.header);
                if (p.header.hasRemaining()) {
                    p.watchOther(SelectionKey.OP_WRITE, true);
                    p.readClient(false);
                    return;
                }
                p.header = null;
            }
            if (c.filled > 0) {
                c.in.limit(c.filled).position(0);
                int written = p.other.write(c.in);
                c.in.limit(c.in.capacity());
                if (written > 0) {
                    p.moved(counters, true, written);
                    p.lastMovedNs = nowNs;
                    c.consume(written);
                }
            }
        } catch (IOException e) {
            closer.close(c, p.endedReason());
            return;
        }
        boolean waiting = c.filled > 0;
        p.watchOther(SelectionKey.OP_WRITE, waiting);
        p.readClient(!waiting && !p.ended);
    }

    /** Reads the other side and sends what it wrote to the client, while the client has nothing queued. */
    void fromOther(Passage p, long nowNs, long maxQueued) {
        StreamConnection c = p.client;
        for (int round = 0; round < READS_PER_READINESS; round++) {
            if (!c.pending.isEmpty()) {
                p.watchOther(SelectionKey.OP_READ, false); // the client is not reading: until it has, nor is this
                return;
            }
            fromOther.clear();
            int n;
            try {
                n = p.other.read(fromOther);
            } catch (IOException e) {
                n = -1; // reset: as closed, and what the client was sent already still goes out
            }
            if (n < 0) {
                ended(p);
                return;
            }
            if (n == 0) {
                return;
            }
            p.moved(counters, false, n);
            p.lastMovedNs = nowNs;
            fromOther.flip();
            try {
                boolean taken = c.tls != null
                        ? c.tls.encrypt(fromOther, c, maxQueued, counters)
                        : c.write(fromOther, maxQueued, counters);
                if (!taken) {
                    closer.close(c, LoopCounters.StreamClose.WRITE_QUEUE_FULL);
                    return;
                }
            } catch (IOException e) {
                closer.close(c, LoopCounters.StreamClose.ERROR);
                return;
            }
        }
    }

    private void ended(Passage p) {
        p.ended = true;
        if (p.client.pending.isEmpty()) {
            closer.close(p.client, p.endedReason());
        } else {
            p.key.interestOps(0);
            p.readClient(false);
        }
    }

    /** {@code p}'s client has written all it had queued: the other side may be read again, or an ended one closes. */
    void clientDrained(Passage p) {
        StreamConnection c = p.client;
        if (c == null || c.closed || !p.connected) {
            return;
        }
        if (p.ended) {
            closer.close(c, p.endedReason());
        } else {
            p.watchOther(SelectionKey.OP_READ, true);
        }
    }
}
