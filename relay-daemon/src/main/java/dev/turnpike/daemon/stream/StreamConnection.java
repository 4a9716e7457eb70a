package dev.turnpike.daemon.stream;

import dev.turnpike.core.stun.StreamFraming;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.daemon.loop.ClientInput;
import dev.turnpike.daemon.loop.LoopCounters;
import dev.turnpike.daemon.loop.TrafficClass;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;

/**
 * A client's TCP or TLS connection: the bytes read but not yet framed into messages, and the bytes the socket
 * would not take yet, in a queue bounded per connection. The read buffer starts small and grows only for a large
 * message, so that ten thousand idle connections do not hold 64 KiB each.
 */
final class StreamConnection implements TlsSession.Connection {
    /** {@link #frame}: whole messages handed on, the rest kept. */
    static final int FRAMED = 0;
    /** {@link #frame}: bytes that are neither STUN nor ChannelData. */
    static final int MALFORMED = -1;

    private static final int INITIAL_READ_BUFFER = 2_048;

    final SocketChannel channel;
    /** The listener's index in the core's configuration. */
    final int listener;

    /** The client: the peer of the connection, or behind a load balancer the one its PROXY header names. */
    InetSocketAddress client;

    final long acceptedAtNs;
    /** Behind a load balancer: a PROXY v2 header must come first, and nothing is framed until it has. */
    boolean awaitingProxyHeader;
    /** Whether {@link #client}'s IP is counted against --connections-per-ip (once the client is known). */
    boolean countedPerIp;
    /** The TLS session, or null for plain TCP. */
    final TlsSession tls;

    SelectionKey key;
    /** Whether a STUN message has arrived: until then the connection must send one within the first-message timeout. */
    boolean established;

    boolean closed;
    /**
     * RFC 6062: a client data connection, bound to a peer connection ({@code TcpRelays} knows which); from the
     * ConnectionBind on, what it reads goes there as it is, never framed.
     */
    boolean bound;
    /** Passed to another worker (its ConnectionBind is that worker's): framing stops, the request stays unread. */
    boolean handedOff;

    int passedTo;
    /** Plaintext read: bytes [0, filled) of it, not yet framed. */
    ByteBuffer in = ByteBuffer.allocate(INITIAL_READ_BUFFER);

    int filled;
    /**
     * Messages sent to this client during the current pass of the loop, not yet written (plaintext, for TLS): they
     * go out together at the pass's end, in one write (one TLS record). Null when none; the buffer is the
     * transport's, lent for the pass.
     */
    ByteBuffer gathered;

    /** Bytes (TLS records, for TLS) the socket has not taken yet, in order. */
    final ArrayDeque<ByteBuffer> pending = new ArrayDeque<>();

    long queuedBytes;
    /** The descriptor, where DSCP is kept (--dscp-preserve) and it can be read; else -1. */
    int fd = -1;
    /**
     * The connection's DSCP (ECN bits clear), what this client's datagrams to peers leave with: over IPv4 the one
     * its SYN carried (all the kernel keeps), over IPv6 the last segment's read.
     */
    int trafficClass;
    /** An IPv6 socket: the kernel reports each segment's Traffic Class, not only the SYN's. */
    boolean ipv6Socket;

    StreamConnection(SocketChannel channel, int listener, InetSocketAddress client, long acceptedAtNs, TlsSession tls) {
        this.channel = channel;
        this.listener = listener;
        this.client = client;
        this.acceptedAtNs = acceptedAtNs;
        this.tls = tls;
    }

    /** Makes room for a message of {@code total} bytes (at most {@link StreamFraming#MAX_MESSAGE}). */
    void ensureCapacity(int total) {
        if (in.capacity() < total) {
            resize(Math.min(StreamFraming.MAX_MESSAGE, Math.max(total, in.capacity() * 2)));
        }
    }

    @Override
    public ByteBuffer plaintext() {
        return in;
    }

    @Override
    public int filled() {
        return filled;
    }

    @Override
    public void filled(int filled) {
        this.filled = filled;
    }

    /** Makes room for {@code free} more bytes after those held (TLS decrypts a whole record at a time). */
    @Override
    public void reserve(int free) {
        if (in.capacity() - filled < free) {
            resize(filled + free);
        }
    }

    private void resize(int capacity) {
        ByteBuffer larger = ByteBuffer.allocate(capacity);
        System.arraycopy(in.array(), 0, larger.array(), 0, filled);
        in = larger;
    }

    /** Drops the framed bytes before {@code start}; a buffer grown for one large message shrinks back. */
    void consume(int start) {
        int left = filled - start;
        if (left == 0 && in.capacity() > INITIAL_READ_BUFFER) {
            in = ByteBuffer.allocate(INITIAL_READ_BUFFER);
        } else if (start > 0) {
            System.arraycopy(in.array(), start, in.array(), 0, left);
        }
        filled = left;
    }

    /**
     * Writes {@code bytes} (already TLS records, for TLS) now, or queues what the socket will not take. Answers
     * false when the queue would pass {@code maxQueued}: the caller closes the connection.
     */
    @Override
    public boolean write(ByteBuffer bytes, long maxQueued, LoopCounters counters) throws IOException {
        if (pending.isEmpty()) {
            counters.streamBytesWritten += channel.write(bytes);
            if (!bytes.hasRemaining()) {
                return true;
            }
        }
        if (queuedBytes + bytes.remaining() > maxQueued) {
            return false;
        }
        ByteBuffer copy = ByteBuffer.allocate(bytes.remaining());
        copy.put(bytes).flip();
        pending.add(copy);
        queuedBytes += copy.remaining();
        key.interestOps(key.interestOps() | SelectionKey.OP_WRITE);
        return true;
    }

    /** Writes what is queued, as far as the socket takes it; stops asking for writability once all is out. */
    void flush(LoopCounters counters) throws IOException {
        while (!pending.isEmpty()) {
            ByteBuffer head = pending.peek();
            int written = channel.write(head);
            counters.streamBytesWritten += written;
            queuedBytes -= written;
            if (head.hasRemaining()) {
                return;
            }
            pending.poll();
        }
        key.interestOps(key.interestOps() & ~SelectionKey.OP_WRITE);
    }

    @Override
    public String toString() {
        return (tls == null ? "tcp " : "tls ") + Addresses.format(client);
    }

    /** Starts following this connection's DSCP with {@code marks}: its socket asked for it, and the SYN's read. */
    void followTrafficClass(TrafficClass marks) throws java.io.IOException {
        fd = TrafficClass.descriptor(channel);
        ipv6Socket = channel.getLocalAddress() instanceof InetSocketAddress local
                && local.getAddress() instanceof java.net.Inet6Address;
        marks.receiveOn(fd, ipv6Socket);
        trafficClass = marks.lastSegment(fd, ipv6Socket); // over IPv4, the SYN's for good
    }

    /** After a read: over IPv6 the kernel keeps the last segment's Traffic Class, which the datagrams follow. */
    void afterRead(TrafficClass marks) {
        if (ipv6Socket) {
            trafficClass = marks.lastSegment(fd, true);
        }
    }

    /** Bytes read before the TLS engine took over (behind a PROXY header): they are TLS records, the engine's. */
    void handReadBytesToTls() {
        in.limit(filled).position(0);
        while (in.hasRemaining()) {
            ByteBuffer net = tls.readBuffer();
            int take = Math.min(net.remaining(), in.remaining());
            net.put(net.position(), in, in.position(), take);
            net.position(net.position() + take);
            in.position(in.position() + take);
        }
        filled = 0;
    }

    /**
     * Hands every whole message read to {@code delivery} (STUN or ChannelData, framed by {@link StreamFraming}) and
     * keeps the rest for the next read. Answers {@link #MALFORMED} for bytes that cannot be framed (the transport
     * closes the connection), else {@link #FRAMED} (the connection may have closed meanwhile: see {@link #closed}).
     */
    int frame(ClientInput delivery, LoopCounters counters) {
        StreamConnection c = this;
        int start = 0;
        c.in.limit(c.in.capacity());
        while (!c.closed) {
            int available = c.filled - start;
            int frame = StreamFraming.frame(c.in, start, available);
            if (frame == StreamFraming.MALFORMED) {
                return MALFORMED;
            }
            if (frame == StreamFraming.NEED_MORE) {
                if (available >= 4) {
                    int total = StreamFraming.frameLength(c.in, start);
                    c.consume(start);
                    start = 0;
                    c.ensureCapacity(total); // the rest of a large message needs room to arrive
                }
                break;
            }
            int length = StreamFraming.messageLength(c.in, start);
            if (!c.established && StunMessage.startsLikeStun(c.in, start)) {
                c.established = true;
            }
            counters.streamMessagesReceived++;
            delivery.message(c.listener, c.client, c.in, start, length, c.trafficClass);
            c.in.limit(c.in.capacity()); // forwarding moved it; framing reads by absolute index up to the capacity
            if (c.handedOff) {
                break; // the request, and all after it, is for the worker it went to
            }
            start += frame;
            if (c.bound) {
                break; // a ConnectionBind answered: what follows is the peer's, as it is
            }
        }
        if (!c.closed) {
            c.consume(start);
        }
        return FRAMED;
    }
}
