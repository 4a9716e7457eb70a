package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.loop.LoopCounters;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A client connection whose bytes go, as they are, to a plain TCP socket beside it and back: the web server behind
 * a shared port ({@link WebPassage}), or an RFC 6062 peer ({@link PeerConnection}). It has no queue of its own.
 * The client's bytes not yet taken by the other side stay in the client's read buffer, and the client is not read
 * meanwhile; the other side is not read while the client has bytes queued. Each side so waits on the other, with
 * one read's bytes in flight at most ({@link Pipe} moves them), and a timeout or a close ends a wait that never
 * ends.
 */
abstract class Passage {
    /** The client's connection; for a peer connection, null until a ConnectionBind pairs one with it. */
    StreamConnection client;

    final SocketChannel other;
    SelectionKey key;
    /** Bytes still to be written to the other side ahead of the client's (a PROXY v2 header), or null. */
    ByteBuffer header;
    /** The other side's connection is up: until then the client's first bytes wait in its buffer. */
    boolean connected;
    /** The other side closed its side: what the client still has queued goes out, then the client is closed. */
    boolean ended;
    /** When a byte last moved either way. */
    long lastMovedNs;

    Passage(StreamConnection client, SocketChannel other, long nowNs) {
        this.client = client;
        this.other = other;
        this.lastMovedNs = nowNs;
    }

    /** Counts {@code bytes} carried, to the other side or from it. */
    abstract void moved(LoopCounters counters, boolean toOther, int bytes);

    /** Why the client closes when the other side has closed. */
    abstract LoopCounters.StreamClose endedReason();

    /** Stops or resumes reading the client: it waits while the other side has not taken its last bytes. */
    void readClient(boolean read) {
        SelectionKey k = client.key;
        k.interestOps(read ? k.interestOps() | SelectionKey.OP_READ : k.interestOps() & ~SelectionKey.OP_READ);
    }

    /** Adds or removes {@code op} from what the other side's socket is watched for. */
    void watchOther(int op, boolean watch) {
        key.interestOps(watch ? key.interestOps() | op : key.interestOps() & ~op);
    }
}
