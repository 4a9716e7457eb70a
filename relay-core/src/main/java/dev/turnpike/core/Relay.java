package dev.turnpike.core;

import dev.turnpike.core.stun.ChannelData;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The sans-IO TURN relay (RFC 8656 over UDP, RFC 8489 STUN): datagrams and time in, an {@link Outbox} of
 * decisions out. No sockets, threads or clock: the caller passes {@code nowNs} (monotonic) and, where
 * credentials need it, {@code epochSeconds} (wall clock). Not thread-safe; one thread owns it.
 *
 * <p>It is the dispatcher: it decodes, hands the data plane to {@link DataPlane}, authenticates requests through
 * {@link RequestAuthentication}, and gives each TURN method its handler ({@link Allocate}; {@link
 * AllocationRequests} for Refresh, CreatePermission and ChannelBind) with the request's {@link Transaction}. A
 * handler answers success itself or returns why not ({@link Refused}); {@link Responses#refuse} writes every such
 * error response and its DEBUG line in one place. (A challenge, 401 or 438 with a fresh NONCE, is the
 * authentication's to write.)
 */
public final class Relay {
    /** Bytes the loop must leave free in front of a received peer datagram (the largest Data indication header). */
    public static final int HEADROOM = 48;
    /** Bytes the loop must leave free behind a received peer datagram (Data indication padding). */
    public static final int TAILROOM = 3;

    private static final long SWEEP_INTERVAL_NS = 1_000_000_000L;

    private RelayConfig config;
    private final RelayCounters counters = new RelayCounters();
    private final StunMessage request = new StunMessage();
    private final Transaction transaction = new Transaction(request);
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final Responses responses;
    private final RequestAuthentication authentication;
    private final AllocationTable allocations;
    private final AllocationQuotas quotas;
    private final Allocate allocate;
    private final AllocationRequests allocationRequests;
    private final TcpRelaying tcpRelaying;

    private final int[] unknownAttributes = new int[16];
    /** What the operator revoked: refused at authentication, and their allocations ended when revoked. */
    private final Revocations revocations = new Revocations();

    private final DataPlane dataPlane;
    private long nextSweepNs;
    private boolean sweepScheduled;

    public Relay(RelayConfig config, RelaySockets sockets) {
        this(config, sockets, AllocationQuotas.local(), Reservations.local());
    }

    /**
     * One of several relays in a process (a worker): {@code quotas} counts the allocations of all of them, and
     * a port one of them reserved can be claimed on any of them ({@code reservations}).
     */
    public Relay(RelayConfig config, RelaySockets sockets, AllocationQuotas quotas, Reservations reservations) {
        this(config, sockets, quotas, reservations, LiveRelayPorts.local());
    }

    /**
     * One of several relays in a process (a worker), as above, whose clients may also reach as peers the relayed
     * addresses that any of them holds ({@code livePorts}).
     */
    public Relay(
            RelayConfig config,
            RelaySockets sockets,
            AllocationQuotas quotas,
            Reservations reservations,
            LiveRelayPorts livePorts) {
        this.config = config;
        this.responses = new Responses(integrity, config.software, counters);
        this.authentication = new RequestAuthentication(config, integrity, responses, counters, revocations);
        this.quotas = quotas;
        // the relay's own relayed addresses are other allocations, not peers for the policy to judge
        SameRelay sameRelay = new SameRelay(config, livePorts);
        this.allocations = new AllocationTable(config, sockets, counters, quotas, reservations, livePorts);
        this.allocate = new Allocate(config, sockets, allocations, responses, counters);
        this.tcpRelaying = new TcpRelaying(config, allocations, sameRelay, responses, counters);
        this.allocationRequests =
                new AllocationRequests(config, allocations, sameRelay, responses, counters, tcpRelaying);
        this.dataPlane = new DataPlane(
                config,
                allocations,
                sameRelay,
                counters,
                config.totalBps == 0 ? null : TokenBucket.forBitsPerSecond(config.totalBps, 0));
    }

    /**
     * A reload, between two datagrams: from now on requests meet {@code next}'s credentials, policy and limits,
     * and no allocation is touched but to apply them (see {@link AllocationTable#reconfigure}). What binds sockets
     * or is written into allocations (listeners, relay and public addresses, the relay-port range) takes a
     * restart, so {@code next} must keep it; the nonce key stays the running one, so issued nonces stay valid.
     *
     * @throws IllegalArgumentException when {@code next} changes what takes a restart
     */
    public void reconfigure(RelayConfig next, long nowNs) {
        List<String> restart = config.restartOnlyDifferences(next);
        if (!restart.isEmpty()) {
            throw new IllegalArgumentException("a reload cannot change " + String.join(", ", restart));
        }
        TokenBucket total = dataPlane.totalBandwidth();
        if (next.totalBps != config.totalBps) {
            total = next.totalBps == 0 ? null : TokenBucket.forBitsPerSecond(next.totalBps, nowNs);
        }
        config = next;
        responses.software(next.software);
        allocate.reconfigure(next);
        allocationRequests.reconfigure(next);
        tcpRelaying.reconfigure(next);
        authentication.reconfigure(next);
        allocations.reconfigure(next, nowNs);
        dataPlane.reconfigure(next, total);
    }

    /**
     * Stops taking new allocations, for a drain before a restart: every other request, and the data of the
     * allocations there are, is served as before. A new Allocate is answered 300 Try Alternate naming the first of
     * {@code alternateServers} of the client's address family, or 508 if there is none.
     */
    public void drain(List<InetSocketAddress> alternateServers) {
        allocate.drain(alternateServers);
    }

    public boolean draining() {
        return allocate.draining();
    }

    public RelayCounters counters() {
        return counters;
    }

    public int allocationCount() {
        return allocations.count();
    }

    /**
     * The allocations the quotas count: this relay's, or with {@link AllocationQuotas#shared} those of every
     * relay that shares them (the workers of a process). Safe from the owning thread; a draining worker ends
     * when this reaches 0.
     */
    public int allocationsCounted() {
        return quotas.total();
    }

    /** Every live allocation, copied for another thread to read (the admin view). Call on the owning thread. */
    public List<AllocationSummary> allocations(long nowNs) {
        return allocations.summaries(nowNs);
    }

    /** When {@link #onTimer} next has work; the loop sleeps no longer than this. Long.MAX_VALUE: never. */
    public long nextDeadlineNs() {
        return sweepScheduled ? nextSweepNs : Long.MAX_VALUE;
    }

    // ---------------------------------------------------------------------------------------------------
    // The operator's hand

    /**
     * Ends allocation {@code id} now (its relay sockets close; its client's next request gets 437). Answers whether
     * this relay held it: the ids of all workers are distinct, so asking each ends at most one.
     */
    public boolean endAllocation(long id, long nowNs, Outbox out) {
        return allocations.end(a -> a.id == id, Command.AllocationEvent.Kind.ENDED, nowNs, out) > 0;
    }

    /**
     * Revokes {@code name} (a username, or the name of {@code EXPIRY:name[:tag]} credentials) until {@code
     * untilEpochSeconds} ({@link Revocations#FOREVER} for good): its next requests get 401, and the allocations it
     * holds end now. Answers how many ended.
     */
    public int revoke(String name, long untilEpochSeconds, long epochSeconds, long nowNs, Outbox out) {
        revocations.revoke(name, untilEpochSeconds);
        return allocations.end(
                a -> revocations.revokes(a.credentials.username(), epochSeconds),
                Command.AllocationEvent.Kind.REVOKED,
                nowNs,
                out);
    }

    /** Lifts the revocation of {@code name}; answers whether there was one. */
    public boolean liftRevocation(String name) {
        return revocations.lift(name);
    }

    // ---------------------------------------------------------------------------------------------------
    // Input from clients (a listening socket)

    /**
     * The TCP or TLS connection of {@code client} on {@code listener} closed: its allocation, if any, ends with it
     * (RFC 8656 §3.1: over a stream, the allocation belongs to the connection's 5-tuple).
     */
    public void onClientClosed(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = allocations.current(listener, client, nowNs, out);
        if (allocation != null) {
            counters.allocationsClosedWithConnection++;
            allocations.delete(allocation, Command.AllocationEvent.Kind.CLOSED, nowNs, out);
        }
    }

    /** A datagram from {@code client} arrived on listening socket {@code listener}. */
    public void onClientDatagram(
            long nowNs,
            long epochSeconds,
            int listener,
            InetSocketAddress client,
            ByteBuffer buffer,
            int offset,
            int length,
            Outbox out) {
        if (ChannelData.looksLikeChannelData(buffer, offset, length)) {
            dataPlane.onClientChannelData(nowNs, listener, client, buffer, offset, length, out);
            return;
        }
        if (request.wrap(buffer, offset, length) != DecodeStatus.OK
                || (request.fingerprintIndex() >= 0 && !integrity.verifyFingerprint(request))) {
            counters.drop(RelayCounters.Drop.MALFORMED); // RFC 8489 §7.3: not STUN, or a bad FINGERPRINT
            return;
        }
        switch (request.messageClass()) {
            case StunMethod.CLASS_INDICATION -> {
                if (request.method() == StunMethod.SEND) {
                    dataPlane.onSendIndication(request, nowNs, listener, client, out);
                } else {
                    // Binding indications are keepalives; other indications are ignored (RFC 8489 §6.3.2).
                    counters.indicationsIgnored++;
                }
            }
            case StunMethod.CLASS_REQUEST -> onRequest(nowNs, epochSeconds, listener, client, out);
            default -> counters.drop(RelayCounters.Drop.MALFORMED); // responses have no business here
        }
    }

    private void onRequest(long nowNs, long epochSeconds, int listener, InetSocketAddress client, Outbox out) {
        counters.stunRequests++;
        responses.answer(request);
        Transaction t = transaction.begin(nowNs, epochSeconds, listener, client, out);
        int method = request.method();
        if (method == StunMethod.BINDING) {
            Refused unknown = unknownAttributes();
            if (unknown != null) {
                responses.refuse(t, unknown);
            } else {
                onBinding(t);
            }
            return;
        }
        if (method != StunMethod.ALLOCATE
                && method != StunMethod.REFRESH
                && method != StunMethod.CREATE_PERMISSION
                && method != StunMethod.CHANNEL_BIND
                && method != StunMethod.CONNECT
                && method != StunMethod.CONNECTION_BIND) {
            responses.refuse(t, Refused.with(ErrorCode.BAD_REQUEST, "not a TURN method this relay serves"));
            return;
        }
        if (method == StunMethod.CONNECTION_BIND) {
            int worker = tcpRelaying.elsewhere(request, listener);
            if (worker >= 0) {
                out.add(new Command.PassConnection(listener, client, worker)); // its worker answers it
                return;
            }
        }
        InetSocketAddress nonceAlso =
                method == StunMethod.CONNECTION_BIND ? tcpRelaying.controlConnection(request, client) : null;
        t.who = authentication.authenticate(request, nowNs, epochSeconds, listener, client, nonceAlso, out);
        if (authentication.remembersSources()) {
            scheduleSweep(nowNs); // so that the reply-rate limiter forgets sources that went quiet
        }
        if (t.who == null) {
            return; // challenged (or not answered, over the reply rate) by the authentication
        }
        responses.sign(t.who.responseKey(), t.who.sha256());
        Refused refused = unknownAttributes();
        if (refused == null) {
            refused = switch (method) {
                case StunMethod.ALLOCATE -> allocate.answer(t);
                case StunMethod.CONNECTION_BIND -> tcpRelaying.connectionBind(t);
                default -> allocationRequests.answer(method, t);
            };
        }
        if (refused != null) {
            responses.refuse(t, refused);
        } else if (method == StunMethod.ALLOCATE || method == StunMethod.CONNECT) {
            scheduleSweep(nowNs); // the new allocation expires; the connect times out
        }
    }

    /** RFC 8489 §6.3.1.1: 420 listing the comprehension-required attributes we do not know, or null. */
    private Refused unknownAttributes() {
        int unknown = request.unknownComprehensionRequired(unknownAttributes);
        return unknown == 0
                ? null
                : Refused.unknownAttributes(
                        java.util.Arrays.copyOf(unknownAttributes, unknown),
                        "comprehension-required attributes unknown");
    }

    // RFC 8489 §7.3.1: the success response carries the request's source as XOR-MAPPED-ADDRESS.
    private void onBinding(Transaction t) {
        counters.bindingRequests++;
        responses.begin(StunMethod.CLASS_SUCCESS).addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, t.client);
        responses.finish(t.listener, t.client, t.out);
    }

    /**
     * A datagram from {@code peer} arrived on {@code relay}'s socket. The payload sits at {@code offset} with
     * at least {@link #HEADROOM} bytes free in front of it and {@link #TAILROOM} behind it, where the ChannelData
     * or Data indication header and padding are written in place.
     */
    public void onPeerDatagram(
            long nowNs,
            RelayEndpoint relay,
            InetSocketAddress peer,
            ByteBuffer buffer,
            int offset,
            int length,
            Outbox out) {
        dataPlane.onPeerDatagram(nowNs, relay, peer, buffer, offset, length, out);
    }

    // ---------------------------------------------------------------------------------------------------
    // TCP relaying (RFC 6062): what the loop reports of the connections the core asked for

    /**
     * The connect to the peer of Connect {@code connectionId} from {@code relay} succeeded ({@code ok}) or failed;
     * the client gets its answer (the CONNECTION-ID, or 447). Answers whether the loop keeps the connection (false:
     * close it; the Connect timed out meanwhile, or its allocation ended).
     */
    public boolean onPeerConnected(long nowNs, RelayEndpoint relay, int connectionId, boolean ok, Outbox out) {
        return tcpRelaying.onPeerConnected(nowNs, relay, connectionId, ok, out);
    }

    /**
     * A peer at {@code peer} connected to TCP relayed address {@code relay}: answers its CONNECTION-ID, with a
     * ConnectionAttempt on its way to the client, or 0 when refused (no permission for the peer's IP, one
     * connection from it already, over the limit): the loop closes it.
     */
    public int onPeerAccepted(long nowNs, RelayEndpoint relay, InetSocketAddress peer, Outbox out) {
        int id = tcpRelaying.onPeerAccepted(nowNs, relay, peer, out);
        if (id != 0) {
            scheduleSweep(nowNs); // unbound, it is closed after 30 s
        }
        return id;
    }

    /** The loop closed connection {@code connectionId} of {@code relay}, peer side or client side: forgotten. */
    public void onTcpConnectionClosed(RelayEndpoint relay, int connectionId) {
        tcpRelaying.onClosed(relay, connectionId);
    }

    // ---------------------------------------------------------------------------------------------------
    // Time

    /** Expires what is due: allocations (their relay sockets are closed), permissions, channels, reservations. */
    public void onTimer(long nowNs, Outbox out) {
        if (!sweepScheduled || nowNs - nextSweepNs < 0) {
            return;
        }
        allocations.sweep(nowNs, out);
        tcpRelaying.sweep(nowNs, out);
        boolean rateLimiting = authentication.sweep(nowNs);
        sweepScheduled = allocations.hasExpiries() || rateLimiting || tcpRelaying.any();
        nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
    }

    private void scheduleSweep(long nowNs) {
        if (!sweepScheduled) {
            sweepScheduled = true;
            nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
        }
    }
}
