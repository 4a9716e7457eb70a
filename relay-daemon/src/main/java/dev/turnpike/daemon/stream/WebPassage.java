package dev.turnpike.daemon.stream;

import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;

/**
 * A client connection passed to the web backend: the backend's socket beside the client's. It has no queue of its
 * own. The client's plaintext not yet taken by the backend stays in the client's read buffer, and the client is
 * not read meanwhile; the backend is not read while the client has records queued. Each side so waits on the
 * other, with one read's bytes in flight at most, and the idle timeout ends a wait that never ends.
 */
final class WebPassage {
    final StreamConnection client;
    final SocketChannel backend;
    SelectionKey key;
    /** The PROXY v2 header still to be written ahead of the client's bytes, or null (none, or written). */
    ByteBuffer header;
    /** The backend accepted the connection. Until then the client's first bytes wait in its buffer. */
    boolean connected;
    /** The backend closed its side: what the client still has queued goes out, then the client is closed. */
    boolean ended;
    /** When a byte last moved either way: the idle timeout counts from here. */
    long lastMovedNs;

    WebPassage(StreamConnection client, SocketChannel backend, long nowNs) {
        this.client = client;
        this.backend = backend;
        this.lastMovedNs = nowNs;
    }

    /** Stops or resumes reading the client: it waits while the backend has not taken its last bytes. */
    void readClient(boolean read) {
        SelectionKey k = client.key;
        k.interestOps(read ? k.interestOps() | SelectionKey.OP_READ : k.interestOps() & ~SelectionKey.OP_READ);
    }

    /** Adds or removes {@code op} from what the backend's socket is watched for. */
    void watchBackend(int op, boolean watch) {
        key.interestOps(watch ? key.interestOps() | op : key.interestOps() & ~op);
    }
}
