package dev.turnpike.daemon.loop;

/** What the loop counts about its own I/O. Written by the loop thread only. */
public final class LoopCounters {
    public long iterations;
    public long datagramsReceived;
    public long datagramsSent;
    /** Packets handed to the send queue: each is sent, failed with an error, or still queued. */
    public long sendsRequested;
    /** Datagrams the kernel took from relay sockets (to peers) and from listeners (to clients, responses too). */
    public long sentToPeers;

    public long sentToClients;
    public long timerRuns;
    /** Timer runs that happened while the loop was suspended: timers do not wait for the queue to drain. */
    public long timerRunsWhileSuspended;
    /** Waits for writability, and how many of them ended because a socket became writable. */
    public long suspendedWaits;

    public long suspendedWakeupsByWritability;
    /** Packets that met a full socket buffer and were queued instead of dropped. */
    public long packetsBuffered;
    /** Time the loop spent suspended: not reading, waiting for a socket to take its queued packets. */
    public long suspendedNs;
    /** Total time buffered packets waited, from queueing to being sent. */
    public long bufferedNs;
    /** Only with the benchmark-only --benchmark-drop-when-full: packets dropped because a buffer was full. */
    public long droppedFullBuffer;
    /**
     * Packets shed from the longest queue at --max-queued-bytes while other flows were being read (--suspend
     * flow): the one drop the relay makes to protect other clients.
     */
    public long droppedShed;

    public long receiveErrors;
    public long internalErrors;
    /** Packets lost because the kernel refused them with an error (not a full buffer: those are queued). */
    public long sendErrors;
    /** Released relay sockets whose close() failed (their descriptors are gone all the same). */
    public long closeErrors;
    /** The most bytes ever waiting in the send queue at once. */
    @Highest
    public long queuedBytesHighWater;
    /** Times the rest of a read batch was held back because the queue reached --max-queued-bytes. */
    public long batchesHeld;

    /** Why a TCP or TLS connection was closed. */
    public enum StreamClose {
        /** The client closed it (or reset it). */
        CLIENT,
        /** Bytes that cannot be framed as STUN or ChannelData. */
        MALFORMED,
        /** No STUN message within --first-message-timeout of the accept (a slowloris). */
        FIRST_MESSAGE_TIMEOUT,
        /** The client did not read what it was sent, past the connection's write queue bound. */
        WRITE_QUEUE_FULL,
        /** The TLS handshake failed, or TLS records did not decrypt. */
        TLS,
        /** An I/O error on the socket. */
        ERROR,
        /**
         * Behind a load balancer: no valid PROXY v2 header first, or the client it names is over
         * --connections-per-ip or already connected.
         */
        PROXY_HEADER,
        /** The relay stopped. */
        SHUTDOWN,
        /** Passed to --https-backend, which refused the connection or did not accept it in time. */
        BACKEND_UNREACHABLE,
        /** Passed to --https-backend, which closed its side (or reset it): the exchange is over. */
        BACKEND_CLOSED,
        /** Passed to --https-backend, and no byte moved either way for --https-backend-idle-timeout. */
        BACKEND_IDLE,
        /** An RFC 6062 data connection whose peer closed its side (or was never there to bind to). */
        PEER_CLOSED,
        /** An RFC 6062 data connection whose allocation ended. */
        ALLOCATION_ENDED
    }

    /** Why a DTLS session ended. */
    public enum DtlsClose {
        /** The client said goodbye (close_notify). */
        CLIENT,
        /** The handshake did not finish within --first-message-timeout. */
        HANDSHAKE_TIMEOUT,
        /** Nothing heard from the client for --max-lifetime. */
        IDLE,
        /** The handshake failed, or a record did not decrypt. */
        FAILED,
        /** A bug, counted as an internal error too. */
        ERROR,
        /** The relay stopped. */
        SHUTDOWN
    }

    /** DTLS sessions open now, handshakes finished, and sessions ended by reason. */
    public long dtlsSessionsOpen;

    public long dtlsHandshakes;
    public final long[] dtlsClosed = new long[DtlsClose.values().length];
    /**
     * HelloVerifyRequests sent (each to a ClientHello without a cookie, nothing kept); ClientHellos refused for a
     * limit; datagrams from sources without a session that start no handshake.
     */
    public long dtlsVerifyRequests;

    public long dtlsRefused;
    public long dtlsDropped;

    /** Connections accepted; refused at once for a limit (--max-connections, --connections-per-ip). */
    public long streamsAccepted;

    public long streamsRefused;
    /** Connections open now. */
    public long streamsOpen;

    public final long[] streamsClosed = new long[StreamClose.values().length];
    /** STUN and ChannelData messages framed on streams, and bytes written to them. */
    public long streamMessagesReceived;

    public long streamBytesWritten;
    /** TLS handshakes completed. */
    public long tlsHandshakes;
    /** TLS connections passed to --https-backend, and the plaintext bytes carried each way. */
    public long webPassages;

    public long webBytesToBackend;
    public long webBytesFromBackend;
    /** Client connections passed to another worker (a ConnectionBind for that worker's peer connection). */
    public long streamsPassed;
    /**
     * RFC 6062: connects to peers begun, peer connections accepted (with an id) and refused (no permission, a
     * limit), and the bytes carried to and from peers on bound data connections.
     */
    public long tcpRelayConnects;

    public long tcpRelayAccepted;
    public long tcpRelayPeersRefused;
    public long tcpRelayBytesToPeers;
    public long tcpRelayBytesFromPeers;

    public LoopCounters copy() {
        return new LoopCounters().add(this);
    }

    /**
     * Adds {@code other}'s counts to these, and answers these: the workers' counters summed for the process. Every
     * counter is a field above and a line in {@code http.MetricSeries}, no more: this sums each {@code long} field
     * and each element of a {@code long[]} field by reflection (once a second a worker, off the data path), and
     * keeps the highest of a field marked {@link Highest}, since each worker's queue has a bound of its own.
     */
    LoopCounters add(LoopCounters other) {
        try {
            for (java.lang.reflect.Field f : FIELDS) {
                if (f.getType() == long[].class) {
                    long[] mine = (long[]) f.get(this);
                    long[] theirs = (long[]) f.get(other);
                    for (int i = 0; i < mine.length; i++) {
                        mine[i] += theirs[i];
                    }
                } else if (f.isAnnotationPresent(Highest.class)) {
                    f.setLong(this, Math.max(f.getLong(this), f.getLong(other)));
                } else {
                    f.setLong(this, f.getLong(this) + f.getLong(other));
                }
            }
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("the loop's own fields", e);
        }
        return this;
    }

    /** A counter summed across workers as its highest, not its total. */
    @java.lang.annotation.Retention(java.lang.annotation.RetentionPolicy.RUNTIME)
    @java.lang.annotation.Target(java.lang.annotation.ElementType.FIELD)
    @interface Highest {}

    /** The counters: every instance field of type long or long[]. */
    private static final java.util.List<java.lang.reflect.Field> FIELDS = java.util.Arrays.stream(
                    LoopCounters.class.getDeclaredFields())
            .filter(f -> !java.lang.reflect.Modifier.isStatic(f.getModifiers()))
            .filter(f -> f.getType() == long.class || f.getType() == long[].class)
            .toList();
}
