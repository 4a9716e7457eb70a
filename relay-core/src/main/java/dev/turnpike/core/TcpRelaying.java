package dev.turnpike.core;

import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Iterator;

/**
 * RFC 6062, TCP relaying, the core's half: Connect (the client asks for a connection to a peer), the peer's own
 * connect to a TCP relayed address (a ConnectionAttempt to the client), ConnectionBind (a new client connection
 * takes one over), and the timeouts of each. The sockets are the loop's: it is told what to open and close by
 * {@link Command}s, and tells back how a connect went and when a connection closed. Bytes on a bound connection
 * never reach the core.
 *
 * <p>A CONNECTION-ID names the worker that holds the connection in its top byte (the relay-port share, as the
 * allocation ids do), so that a ConnectionBind reaching another worker of the process (the kernel hashes each new
 * connection) is passed to the right one before anything is answered.
 */
final class TcpRelaying {
    /** RFC 6062 §5.2: a connect is given at least 30 s; a connection not bound in 30 s is closed (§5.2, §5.3). */
    static final long CONNECT_TIMEOUT_NS = 30_000_000_000L;

    static final long BIND_TIMEOUT_NS = 30_000_000_000L;

    private static final int WORKER_SHIFT = 24;

    private RelayConfig config;
    private final AllocationTable allocations;
    private final SameRelay sameRelay;
    private final Responses responses;
    private final RelayCounters counters;
    private final HashMap<Integer, TcpConnection> byId = new HashMap<>();
    /** For the ConnectionAttempt indications, which answer no request. */
    private final StunWriter indications = new StunWriter(new dev.turnpike.core.stun.MessageIntegrity());

    private final ByteBuffer indicationBuffer = ByteBuffer.allocate(256);

    TcpRelaying(
            RelayConfig config,
            AllocationTable allocations,
            SameRelay sameRelay,
            Responses responses,
            RelayCounters counters) {
        this.config = config;
        this.allocations = allocations;
        this.sameRelay = sameRelay;
        this.responses = responses;
        this.counters = counters;
    }

    void reconfigure(RelayConfig next) {
        config = next;
    }

    /** Connections opening, awaiting a bind or bound: the sweep has work while there are any. */
    boolean any() {
        return !byId.isEmpty();
    }

    /**
     * The worker a ConnectionBind on {@code listener} is for when it is another than this one, else -1 (this
     * worker answers it, whatever it holds).
     */
    int elsewhere(StunMessage request, int listener) {
        int index = request.indexOf(StunAttribute.CONNECTION_ID);
        if (index < 0 || request.valueLength(index) != 4 || !config.isStream(listener)) {
            return -1;
        }
        int worker = (int) (request.u32Value(StunAttribute.CONNECTION_ID, 0) >>> WORKER_SHIFT);
        return worker != config.portShare && worker < config.portShares ? worker : -1;
    }

    /**
     * The control connection's address of the peer connection a ConnectionBind from {@code client} names, when it
     * awaits a bind here and comes from the same IP: the nonce the client has was issued there (a client keeps one
     * nonce for its control and data connections, as coturn's does). Else null.
     */
    InetSocketAddress controlConnection(StunMessage request, InetSocketAddress client) {
        int index = request.indexOf(StunAttribute.CONNECTION_ID);
        if (index < 0 || request.valueLength(index) != 4) {
            return null;
        }
        TcpConnection c = byId.get((int) request.u32Value(StunAttribute.CONNECTION_ID, 0));
        if (c == null
                || c.state != TcpConnection.State.AWAITING_BIND
                || !c.allocation.client.getAddress().equals(client.getAddress())) {
            return null;
        }
        return c.allocation.client;
    }

    /** RFC 6062 §5.2: Connect, on the control connection of a TCP allocation. Answers later, or returns why not. */
    Refused connect(Transaction t, Allocation allocation) {
        if (!allocation.tcp) {
            return Refused.with(ErrorCode.BAD_REQUEST, "Connect on an allocation relaying UDP");
        }
        int index = t.request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        InetSocketAddress peer = index < 0 ? null : t.request.xorAddress(index);
        if (peer == null) {
            return Refused.with(ErrorCode.BAD_REQUEST, "no XOR-PEER-ADDRESS, or a malformed one");
        }
        RelayEndpoint relay = allocation.endpointFor(peer.getAddress());
        if (relay == null) {
            return Refused.with(ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH, "no relayed address of the peer's family");
        }
        boolean inside = sameRelay.isLive(peer.getAddress(), peer.getPort());
        if (inside
                ? allocation.isOwnRelayedAddress(peer.getAddress(), true, peer.getPort())
                : !config.policy.permits(peer)) {
            counters.peersRefused++;
            return Refused.with(ErrorCode.FORBIDDEN, "peer " + peer + " refused (403)");
        }
        if (allocation.connections.containsKey(peer)) {
            return Refused.with(ErrorCode.CONNECTION_ALREADY_EXISTS, "a connection to " + peer + " exists");
        }
        if (config.maxPermissions > 0 && allocation.connections.size() >= config.maxPermissions) {
            counters.refusedOverLimit++;
            return Refused.with(ErrorCode.INSUFFICIENT_CAPACITY, "over --max-permissions connections");
        }
        TcpConnection c = add(allocation, relay, peer, TcpConnection.State.CONNECTING, t.nowNs + CONNECT_TIMEOUT_NS);
        responses.begin(StunMethod.CLASS_SUCCESS).addU32(StunAttribute.CONNECTION_ID, c.id & 0xFFFFFFFFL);
        c.connected = responses.build();
        ErrorCode failure = ErrorCode.CONNECTION_TIMEOUT_OR_FAILURE;
        responses.begin(StunMethod.CLASS_ERROR).addErrorCode(failure.code, failure.reason);
        c.failed = responses.build();
        // another allocation of this relay is reached at the address its socket is bound to, never the public one
        InetSocketAddress target = inside
                ? new InetSocketAddress(sameRelay.local(peer.getAddress() instanceof Inet6Address), peer.getPort())
                : peer;
        t.out.add(new Command.ConnectPeer(relay, target, c.id));
        counters.count(RelayCounters.TcpRelay.CONNECTS);
        return null;
    }

    /** RFC 6062 §5.4: ConnectionBind, on a new connection of the client's. Answers success, or returns why not. */
    Refused connectionBind(Transaction t) {
        if (!config.isStream(t.listener)) {
            return Refused.with(ErrorCode.BAD_REQUEST, "ConnectionBind over UDP or DTLS");
        }
        if (allocations.current(t.listener, t.client, t.nowNs, t.out) != null) {
            return Refused.with(ErrorCode.BAD_REQUEST, "ConnectionBind on a connection that holds an allocation");
        }
        int index = t.request.indexOf(StunAttribute.CONNECTION_ID);
        if (index < 0 || t.request.valueLength(index) != 4) {
            return Refused.with(ErrorCode.BAD_REQUEST, "no CONNECTION-ID, or not 4 bytes");
        }
        int id = (int) t.request.u32Value(StunAttribute.CONNECTION_ID, 0);
        TcpConnection c = byId.get(id);
        if (c == null || c.state != TcpConnection.State.AWAITING_BIND || !live(c, t.nowNs)) {
            counters.count(RelayCounters.TcpRelay.BINDS_REFUSED);
            return Refused.with(ErrorCode.BAD_REQUEST, "CONNECTION-ID unknown, expired or already bound");
        }
        if (!c.allocation.credentials.username().equals(t.who.key().username())) {
            counters.count(RelayCounters.TcpRelay.BINDS_REFUSED);
            return Refused.with(ErrorCode.WRONG_CREDENTIALS, "the connection's allocation belongs to another user");
        }
        c.state = TcpConnection.State.BOUND;
        responses.success(t.listener, t.client, t.out);
        t.out.add(new Command.BindConnection(t.listener, t.client, c.relay, c.id));
        counters.count(RelayCounters.TcpRelay.BINDS);
        return null;
    }

    /** The loop connected to the peer of Connect {@code id} ({@code ok}) or could not; answers whether to keep it. */
    boolean onPeerConnected(long nowNs, RelayEndpoint relay, int id, boolean ok, Outbox out) {
        TcpConnection c = byId.get(id);
        if (c == null || c.relay != relay || c.state != TcpConnection.State.CONNECTING) {
            return false; // timed out meanwhile, or its allocation is gone
        }
        if (!live(c, nowNs)) {
            remove(c);
            return false;
        }
        Allocation a = c.allocation;
        if (ok) {
            c.state = TcpConnection.State.AWAITING_BIND;
            c.deadlineNs = nowNs + BIND_TIMEOUT_NS;
            out.add(new Command.SendToClient(a.listener, a.client, c.connected, null));
        } else {
            fail(c, "the peer refused or could not be reached", out);
            remove(c);
        }
        c.connected = null;
        c.failed = null;
        return ok;
    }

    /**
     * RFC 6062 §5.3: {@code peer} connected to TCP relayed address {@code relay}. With a permission for its IP, the
     * connection gets an id and the client a ConnectionAttempt; answers the id, or 0 to refuse (the loop closes it).
     */
    int onPeerAccepted(long nowNs, RelayEndpoint relay, InetSocketAddress source, Outbox out) {
        Allocation a = relay.allocation;
        if (a == null || a.released || a.expiresAtNs - nowNs <= 0 || !a.tcp) {
            return 0;
        }
        InetSocketAddress peer = sameRelay.asAdvertised(source);
        Permission permission = a.permissions.get(peer.getAddress());
        if (permission == null || permission.expiresAtNs - nowNs <= 0) {
            counters.drop(RelayCounters.Drop.NO_PERMISSION);
            return 0;
        }
        if (a.connections.containsKey(peer)
                || (config.maxPermissions > 0 && a.connections.size() >= config.maxPermissions)) {
            counters.refusedOverLimit++;
            return 0;
        }
        TcpConnection c = add(a, relay, peer, TcpConnection.State.AWAITING_BIND, nowNs + BIND_TIMEOUT_NS);
        StunWriter w = indications.begin(
                indicationBuffer,
                0,
                StunMethod.messageType(StunMethod.CONNECTION_ATTEMPT, StunMethod.CLASS_INDICATION),
                config.random.nextLong(),
                config.random.nextInt());
        w.addU32(StunAttribute.CONNECTION_ID, c.id & 0xFFFFFFFFL).addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer);
        if (config.software != null) {
            w.addString(StunAttribute.SOFTWARE, config.software);
        }
        out.add(new Command.SendToClient(a.listener, a.client, w.toBytes(), null));
        counters.count(RelayCounters.TcpRelay.ACCEPTED);
        return c.id;
    }

    /** The loop closed connection {@code id} of {@code relay} (either side of it): it is forgotten. */
    void onClosed(RelayEndpoint relay, int id) {
        TcpConnection c = byId.get(id);
        if (c != null && c.relay == relay) {
            remove(c);
        }
    }

    /** Times out connects (447) and binds that did not come; forgets the connections of ended allocations. */
    void sweep(long nowNs, Outbox out) {
        Iterator<TcpConnection> it = byId.values().iterator();
        while (it.hasNext()) {
            TcpConnection c = it.next();
            if (!live(c, nowNs)) {
                it.remove();
                c.allocation.connections.remove(c.peer);
                continue; // its relayed address is closing, and every connection of it with it
            }
            if (c.state != TcpConnection.State.BOUND && c.deadlineNs - nowNs <= 0) {
                if (c.state == TcpConnection.State.CONNECTING) {
                    fail(c, "no connection to the peer within 30 s", out);
                } else {
                    counters.count(RelayCounters.TcpRelay.BIND_TIMEOUTS);
                }
                it.remove();
                c.allocation.connections.remove(c.peer);
                out.add(new Command.CloseConnection(c.relay, c.id));
            }
        }
    }

    private void fail(TcpConnection c, String why, Outbox out) {
        counters.errorResponses++;
        counters.count(RelayCounters.TcpRelay.CONNECTS_FAILED);
        Allocation a = c.allocation;
        ErrorCode e = ErrorCode.CONNECTION_TIMEOUT_OR_FAILURE;
        out.add(new Command.SendToClient(
                a.listener, a.client, c.failed, new Command.Refusal(StunMethod.CONNECT, e.code, why + ": " + c.peer)));
    }

    private static boolean live(TcpConnection c, long nowNs) {
        return !c.allocation.released && c.allocation.expiresAtNs - nowNs > 0;
    }

    private TcpConnection add(
            Allocation allocation,
            RelayEndpoint relay,
            InetSocketAddress peer,
            TcpConnection.State state,
            long deadlineNs) {
        int id;
        do {
            id = (config.portShare << WORKER_SHIFT) | (config.random.nextInt() & 0xFFFFFF);
        } while (id == 0 || byId.containsKey(id));
        TcpConnection c = new TcpConnection(id, allocation, relay, peer, state);
        c.deadlineNs = deadlineNs;
        byId.put(id, c);
        allocation.connections.put(peer, c);
        return c;
    }

    private void remove(TcpConnection c) {
        byId.remove(c.id);
        c.allocation.connections.remove(c.peer);
    }
}
