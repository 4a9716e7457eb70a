package dev.turnpike.core;

import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.ChannelData;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import dev.turnpike.core.stun.TurnAttributes;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The sans-IO TURN relay (RFC 8656 over UDP, RFC 8489 STUN): datagrams and time in, an {@link Outbox} of
 * decisions out. No sockets, threads or clock: the caller passes {@code nowNs} (monotonic) and, where
 * credentials need it, {@code epochSeconds} (wall clock). Not thread-safe; one thread owns it.
 *
 * <p>It is the dispatcher: it decodes, authenticates through {@link RequestAuthentication}, keeps allocations in
 * the {@link AllocationTable}, answers through {@link Responses}, hands the data plane to {@link DataPlane}, and
 * carries out the four TURN methods itself. Longer than 400 lines for that: Allocate, Refresh, CreatePermission
 * and ChannelBind share their checks and read best beside each other, as RFC 8656 §7 to §12 presents them.
 */
public final class Relay {
    /** Bytes the loop must leave free in front of a received peer datagram (the largest Data indication header). */
    public static final int HEADROOM = 48;
    /** Bytes the loop must leave free behind a received peer datagram (Data indication padding). */
    public static final int TAILROOM = 3;

    private static final long NS_PER_SECOND = 1_000_000_000L;
    private static final long SWEEP_INTERVAL_NS = NS_PER_SECOND;

    private RelayConfig config;
    private final RelaySockets sockets;
    private PeerPolicy policy;
    private final RelayCounters counters = new RelayCounters();
    private final StunMessage request = new StunMessage();
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final Responses responses;
    private final RequestAuthentication authentication;
    private final AllocationTable allocations;
    private final AllocationQuotas quotas;
    /** The relay's own relayed addresses, which are other allocations, not peers for the policy to judge. */
    private final SameRelay sameRelay;

    private final int[] unknownAttributes = new int[16];

    private final long[] reservationToken = new long[1];
    private final DataPlane dataPlane;
    private long nextSweepNs;
    private boolean sweepScheduled;
    /** Draining: a new Allocate is sent to one of these (300 Try Alternate), or refused with 508 if none fits. */
    private List<InetSocketAddress> alternateServers;

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
        this.sockets = sockets;
        this.policy = config.policy;
        this.responses = new Responses(integrity, config.software, counters);
        this.authentication = new RequestAuthentication(config, integrity, responses, counters);
        this.quotas = quotas;
        this.sameRelay = new SameRelay(config, livePorts);
        this.allocations = new AllocationTable(config, sockets, counters, quotas, reservations, livePorts);
        this.dataPlane = new DataPlane(
                config,
                allocations,
                sameRelay,
                counters,
                config.totalBps == 0 ? null : bandwidthBucket(config.totalBps, 0));
    }

    /** Bytes a second from bits a second; room for one second's worth, and at least the largest datagram. */
    static TokenBucket bandwidthBucket(long bitsPerSecond, long nowNs) {
        long bytesPerSecond = Math.max(1, Math.min(bitsPerSecond, RelayConfig.MAX_BPS) / 8);
        return new TokenBucket(bytesPerSecond, Math.max(bytesPerSecond, 65_535), nowNs);
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
            total = next.totalBps == 0 ? null : bandwidthBucket(next.totalBps, nowNs);
        }
        config = next;
        policy = next.policy;
        responses.software(next.software);
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
        this.alternateServers = List.copyOf(alternateServers);
    }

    public boolean draining() {
        return alternateServers != null;
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
        int method = request.method();
        if (method == StunMethod.BINDING) {
            if (!rejectUnknownAttributes(listener, client, out)) {
                onBinding(listener, client, out);
            }
            return;
        }
        if (method != StunMethod.ALLOCATE
                && method != StunMethod.REFRESH
                && method != StunMethod.CREATE_PERMISSION
                && method != StunMethod.CHANNEL_BIND) {
            responses.error(listener, client, ErrorCode.BAD_REQUEST, "not a TURN method this relay serves", out);
            return;
        }
        RequestAuthentication.Authenticated who =
                authentication.authenticate(request, nowNs, epochSeconds, listener, client, out);
        if (authentication.remembersSources()) {
            scheduleSweep(nowNs); // so that the reply-rate limiter forgets sources that went quiet
        }
        if (who == null) {
            return;
        }
        responses.sign(who.responseKey(), who.sha256());
        if (rejectUnknownAttributes(listener, client, out)) {
            return;
        }
        switch (method) {
            case StunMethod.ALLOCATE -> onAllocate(nowNs, who, listener, client, out);
            case StunMethod.REFRESH -> onRefresh(nowNs, who, listener, client, out);
            case StunMethod.CREATE_PERMISSION -> onCreatePermission(nowNs, who, listener, client, out);
            default -> onChannelBind(nowNs, who, listener, client, out);
        }
    }

    /** RFC 8489 §6.3.1.1: 420 listing the comprehension-required attributes we do not know. */
    private boolean rejectUnknownAttributes(int listener, InetSocketAddress client, Outbox out) {
        int unknown = request.unknownComprehensionRequired(unknownAttributes);
        if (unknown == 0) {
            return false;
        }
        responses.unknownAttributes(
                listener, client, unknownAttributes, unknown, "comprehension-required attributes unknown", out);
        return true;
    }

    // RFC 8489 §7.3.1: the success response carries the request's source as XOR-MAPPED-ADDRESS.
    private void onBinding(int listener, InetSocketAddress client, Outbox out) {
        counters.bindingRequests++;
        responses.begin(StunMethod.CLASS_SUCCESS).addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, client);
        responses.finish(listener, client, out);
    }

    // ---------------------------------------------------------------------------------------------------
    // Allocate: RFC 8656 §7.2

    private void onAllocate(
            long nowNs, RequestAuthentication.Authenticated who, int listener, InetSocketAddress client, Outbox out) {
        Allocation existing = allocations.current(listener, client, nowNs, out);
        if (existing != null) {
            if (existing.allocateTxHigh == request.transactionIdHigh()
                    && existing.allocateTxLow == request.transactionIdLow()
                    && existing.allocateResponse != null) {
                // a retransmission
                out.add(new Command.SendToClient(listener, client, existing.allocateResponse, null));
            } else {
                responses.error(
                        listener,
                        client,
                        ErrorCode.ALLOCATION_MISMATCH,
                        "an allocation exists for this 5-tuple (a new transaction, not a retransmission)",
                        out);
            }
            return;
        }
        if (draining()) {
            refuseDraining(listener, client, out);
            return;
        }
        AllocateAttributes.Refusal[] refusal = new AllocateAttributes.Refusal[1];
        AllocateAttributes asked = AllocateAttributes.decode(request, sockets.supportsDontFragment(), refusal);
        if (asked == null) {
            if (refusal[0].code() == ErrorCode.UNKNOWN_ATTRIBUTE) {
                unknownAttributes[0] = StunAttribute.DONT_FRAGMENT;
                responses.unknownAttributes(listener, client, unknownAttributes, 1, refusal[0].why(), out);
            } else {
                responses.error(listener, client, refusal[0].code(), refusal[0].why(), out);
            }
            return;
        }
        boolean dontFragment = asked.dontFragment();
        boolean hasToken = asked.token();
        boolean hasAdditionalFamily = asked.dual();
        boolean reserveNext = asked.reserveNext();
        boolean wantIpv4 = asked.wantIpv4();
        boolean wantIpv6 = asked.wantIpv6();
        boolean ipv6Unavailable = hasAdditionalFamily && config.relayIpv6 == null;
        if (!hasToken
                && ((wantIpv4 && config.relayIpv4 == null)
                        || (wantIpv6 && !hasAdditionalFamily && config.relayIpv6 == null))) {
            responses.error(
                    listener,
                    client,
                    ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED,
                    "no relay address of the family asked for",
                    out);
            return;
        }

        String account = account(who);
        if (!allocations.reserveQuota(account, client.getAddress())) {
            counters.allocationsRefusedQuota++;
            responses.error(
                    listener,
                    client,
                    ErrorCode.ALLOCATION_QUOTA_REACHED,
                    "over a quota: --max-allocations, --user-quota or --client-quota (user " + account + ")",
                    out);
            return;
        }
        Allocation allocation = new Allocation(listener, client, who.key(), account);
        if (config.maxBps > 0) {
            allocation.bandwidth = bandwidthBucket(config.maxBps, nowNs);
        }
        boolean reserved = false;
        if (hasToken) {
            // The port was bound when it was reserved; the held socket now serves this allocation.
            RelayEndpoint endpoint = TurnAttributes.hasReservationToken(request)
                    ? allocations.claim(TurnAttributes.reservationToken(request), allocation, dontFragment, nowNs, out)
                    : null;
            if (endpoint == null) {
                allocations.unreserve(account, client.getAddress());
                refuseNoPort(listener, client, "RESERVATION-TOKEN unknown, expired or malformed", out);
                return;
            }
            if (endpoint.local().getAddress() instanceof java.net.Inet6Address) {
                allocation.ipv6 = endpoint;
            } else {
                allocation.ipv4 = endpoint;
            }
        } else if (reserveNext) {
            // EVEN-PORT with R: one family only (checked above), an even port and its bound neighbour
            RelayEndpoint even = allocations.openEvenPairAndReserve(
                    allocation, wantIpv6, dontFragment, reservationToken, nowNs, out);
            if (even == null) {
                allocations.unreserve(account, client.getAddress());
                refuseNoPort(listener, client, "no free even port with a free neighbour in --relay-ports", out);
                return;
            }
            if (wantIpv6) {
                allocation.ipv6 = even;
            } else {
                allocation.ipv4 = even;
            }
            reserved = true;
        } else {
            if (wantIpv4) {
                allocation.ipv4 = allocations.open(allocation, false, asked.even(), dontFragment);
            }
            if (wantIpv6 && !ipv6Unavailable) {
                allocation.ipv6 = allocations.open(allocation, true, asked.even(), dontFragment);
            }
            if ((wantIpv4 && allocation.ipv4 == null) || (wantIpv6 && !ipv6Unavailable && allocation.ipv6 == null)) {
                allocations.releaseEndpoints(allocation, out);
                allocations.unreserve(account, client.getAddress());
                refuseNoPort(listener, client, "no free port in --relay-ports", out);
                return;
            }
        }
        long lifetime = grantedLifetime(asked.lifetimeSeconds());
        allocation.expiresAtNs = nowNs + lifetime * NS_PER_SECOND;
        allocations.add(allocation);
        scheduleSweep(nowNs);

        StunWriter writer = responses.begin(StunMethod.CLASS_SUCCESS);
        if (allocation.ipv4 != null) {
            writer.addXorAddress(StunAttribute.XOR_RELAYED_ADDRESS, allocation.ipv4.advertised());
        }
        if (allocation.ipv6 != null) {
            writer.addXorAddress(StunAttribute.XOR_RELAYED_ADDRESS, allocation.ipv6.advertised());
        }
        if (ipv6Unavailable) {
            ErrorCode e = ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED;
            writer.addAddressErrorCode(TurnAttributes.FAMILY_IPV6, e.code, e.reason);
        }
        writer.addU32(StunAttribute.LIFETIME, lifetime);
        if (reserved) {
            writer.addBytes(StunAttribute.RESERVATION_TOKEN, longBytes(reservationToken[0]));
        }
        writer.addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, client);
        allocation.createdAtNs = nowNs;
        allocation.allocateTxHigh = request.transactionIdHigh();
        allocation.allocateTxLow = request.transactionIdLow();
        allocation.allocateResponse = responses.finish(listener, client, out);
        out.add(allocation.event(Command.AllocationEvent.Kind.CREATED, lifetime, nowNs));
    }

    /**
     * Whom the per-user quota counts: the username, or for a time-limited (REST) username "EXPIRY:name" the name,
     * so that minting fresh expiries does not mint fresh quota.
     */
    private static String account(RequestAuthentication.Authenticated who) {
        String username = who.key().username();
        int colon = username.indexOf(':');
        return colon < 0 ? username : username.substring(colon + 1);
    }

    /** RFC 8656 §7.2, §7.3: the lifetime asked for, at most the maximum and at least the default. */
    private long grantedLifetime(long requestedSeconds) {
        return Math.min(
                Math.max(RelayConfig.DEFAULT_LIFETIME_SECONDS, Math.min(requestedSeconds, config.maxLifetimeSeconds)),
                config.maxLifetimeSeconds);
    }

    private void refuseDraining(int listener, InetSocketAddress client, Outbox out) {
        counters.allocationsRefusedDraining++;
        boolean ipv6 = client.getAddress() instanceof java.net.Inet6Address;
        for (InetSocketAddress alternate : alternateServers) {
            if ((alternate.getAddress() instanceof java.net.Inet6Address) == ipv6) {
                responses.tryAlternate(listener, client, alternate, "draining: try --alternate-server", out);
                return;
            }
        }
        // the reason phrase says so, so that a probe or a person can tell a drain from a full relay-port range
        responses.error(
                listener,
                client,
                ErrorCode.INSUFFICIENT_CAPACITY,
                ErrorCode.INSUFFICIENT_CAPACITY.reason + " (draining)",
                "draining, and no --alternate-server of the client's family",
                out);
    }

    private void refuseNoPort(int listener, InetSocketAddress client, String why, Outbox out) {
        counters.allocationsRefusedNoPort++;
        responses.error(listener, client, ErrorCode.INSUFFICIENT_CAPACITY, why, out);
    }

    private static byte[] longBytes(long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (56 - 8 * i));
        }
        return bytes;
    }

    // ---------------------------------------------------------------------------------------------------
    // Refresh, CreatePermission, ChannelBind: RFC 8656 §7.3, §9, §12

    /** The caller's live allocation, or null after answering 437 (none) or 441 (another user's). */
    private Allocation requireAllocation(
            long nowNs, RequestAuthentication.Authenticated who, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = allocations.current(listener, client, nowNs, out);
        if (allocation == null) {
            responses.error(listener, client, ErrorCode.ALLOCATION_MISMATCH, "no allocation for this 5-tuple", out);
            return null;
        }
        if (!allocation.credentials.username().equals(who.key().username())) {
            responses.error(
                    listener, client, ErrorCode.WRONG_CREDENTIALS, "the allocation belongs to another user", out);
            return null;
        }
        return allocation;
    }

    private void onRefresh(
            long nowNs, RequestAuthentication.Authenticated who, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = requireAllocation(nowNs, who, listener, client, out);
        if (allocation == null) {
            return;
        }
        int family = request.firstByte(StunAttribute.REQUESTED_ADDRESS_FAMILY);
        if ((family == TurnAttributes.FAMILY_IPV4 && allocation.ipv4 == null)
                || (family == TurnAttributes.FAMILY_IPV6 && allocation.ipv6 == null)) {
            responses.error(
                    listener,
                    client,
                    ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH,
                    "the allocation has no relayed address of that family",
                    out);
            return;
        }
        // RFC 8656 §7.3: zero deletes; otherwise at most the maximum and at least the default, as for Allocate
        long requested = request.u32Value(StunAttribute.LIFETIME, RelayConfig.DEFAULT_LIFETIME_SECONDS);
        long lifetime = requested == 0 ? 0 : grantedLifetime(requested);
        if (lifetime == 0) {
            allocations.delete(allocation, Command.AllocationEvent.Kind.DELETED, nowNs, out);
        } else {
            allocation.expiresAtNs = nowNs + lifetime * NS_PER_SECOND;
            out.add(allocation.event(Command.AllocationEvent.Kind.REFRESHED, lifetime, nowNs));
        }
        responses.begin(StunMethod.CLASS_SUCCESS).addU32(StunAttribute.LIFETIME, lifetime);
        responses.finish(listener, client, out);
    }

    private void onCreatePermission(
            long nowNs, RequestAuthentication.Authenticated who, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = requireAllocation(nowNs, who, listener, client, out);
        if (allocation == null) {
            return;
        }
        int first = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        if (first < 0) {
            responses.error(listener, client, ErrorCode.BAD_REQUEST, "no XOR-PEER-ADDRESS", out);
            return;
        }
        // All or nothing (RFC 8656 §9.2): check every peer before installing any.
        for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            InetSocketAddress peer = request.xorAddress(i);
            ErrorCode refusal = peer == null ? ErrorCode.BAD_REQUEST : refusePeerIp(allocation, peer.getAddress());
            if (refusal != null) {
                responses.error(
                        listener,
                        client,
                        refusal,
                        peer == null
                                ? "a malformed XOR-PEER-ADDRESS"
                                : "peer " + peer.getAddress().getHostAddress() + " refused (" + refusal.code + ")",
                        out);
                return;
            }
        }
        if (config.maxPermissions > 0) {
            allocation.sweep(nowNs); // expired permissions no longer count
            int added = 0;
            for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
                InetAddress peer = request.xorAddress(i).getAddress();
                if (!allocation.permissions.containsKey(peer) && !repeated(peer, first, i)) {
                    added++;
                }
            }
            if (allocation.permissionCount + added > config.maxPermissions) {
                // RFC 8656 §9.2: 508 when it cannot install them
                refuseOverLimit(listener, client, "over --max-permissions " + config.maxPermissions, out);
                return;
            }
        }
        for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            InetAddress peer = request.xorAddress(i).getAddress();
            installPermission(allocation, peer, nowNs);
        }
        responses.success(listener, client, out);
    }

    /** Whether an XOR-PEER-ADDRESS before {@code index} (from {@code first}) names {@code peer} too. */
    private boolean repeated(InetAddress peer, int first, int index) {
        for (int i = first; i >= 0 && i < index; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            if (peer.equals(request.xorAddress(i).getAddress())) {
                return true;
            }
        }
        return false;
    }

    private void refuseOverLimit(int listener, InetSocketAddress client, String why, Outbox out) {
        counters.refusedOverLimit++;
        responses.error(listener, client, ErrorCode.INSUFFICIENT_CAPACITY, why, out);
    }

    /** 443 when the allocation has no relay address of the peer's family, 403 when policy refuses it. */
    private ErrorCode refusePeerIp(Allocation allocation, InetAddress peer) {
        if (allocation.endpointFor(peer) == null) {
            return ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH;
        }
        if (!sameRelay.names(peer) && policy.judge(peer) == PeerPolicy.Verdict.DENIED) {
            counters.peersRefused++; // a request answered 403: no datagram was dropped
            return ErrorCode.FORBIDDEN;
        }
        return null;
    }

    private void installPermission(Allocation allocation, InetAddress peer, long nowNs) {
        Permission permission = allocation.permissions.get(peer);
        if (permission == null) {
            allocation.addPermission(new Permission(
                    peer,
                    sameRelay.names(peer),
                    policy.judge(peer) == PeerPolicy.Verdict.ALLOWED,
                    nowNs + Permission.LIFETIME_NS));
        } else {
            permission.expiresAtNs = nowNs + Permission.LIFETIME_NS;
        }
    }

    private void onChannelBind(
            long nowNs, RequestAuthentication.Authenticated who, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = requireAllocation(nowNs, who, listener, client, out);
        if (allocation == null) {
            return;
        }
        int maxChannel = config.rfc5766ChannelNumbers ? ChannelData.MAX_CHANNEL_RFC5766 : ChannelData.MAX_CHANNEL;
        int number = TurnAttributes.channelNumber(request);
        int peerIndex = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        InetSocketAddress peer = peerIndex < 0 ? null : request.xorAddress(peerIndex);
        if (number < ChannelData.MIN_CHANNEL || number > maxChannel || peer == null) {
            responses.error(
                    listener,
                    client,
                    ErrorCode.BAD_REQUEST,
                    "channel number 0x" + Integer.toHexString(number)
                            + " or XOR-PEER-ADDRESS invalid (expected: 0x4000-0x" + Integer.toHexString(maxChannel)
                            + (config.rfc5766ChannelNumbers ? "" : "; legacy clients need --rfc5766-channel-numbers")
                            + ")",
                    out);
            return;
        }
        ErrorCode refusal = refusePeerIp(allocation, peer.getAddress());
        // another allocation here is delivered to inside, its own relayed address never; anything else is a peer
        if (refusal == null
                && (sameRelay.isLive(peer.getAddress(), peer.getPort())
                        ? allocation.isOwnRelayedAddress(peer.getAddress(), true, peer.getPort())
                        : !policy.permits(peer))) {
            counters.peersRefused++;
            refusal = ErrorCode.FORBIDDEN;
        }
        if (refusal != null) {
            responses.error(listener, client, refusal, "peer " + peer + " refused (" + refusal.code + ")", out);
            return;
        }
        allocation.sweep(nowNs); // an expired binding no longer holds its number or peer
        ChannelBinding byNumber = allocation.channel(number);
        ChannelBinding byPeer = allocation.channelsByPeer.get(peer);
        // RFC 8656 §12.2: a number stands for one peer and a peer has one number, for the binding's life.
        if ((byNumber != null && !byNumber.peer.equals(peer)) || (byPeer != null && byPeer.number != number)) {
            responses.error(
                    listener,
                    client,
                    ErrorCode.BAD_REQUEST,
                    "channel 0x" + Integer.toHexString(number) + " or peer " + peer + " already bound to another",
                    out);
            return;
        }
        if ((byNumber == null && config.maxChannels > 0 && allocation.channelCount >= config.maxChannels)
                || (config.maxPermissions > 0
                        && !allocation.permissions.containsKey(peer.getAddress())
                        && allocation.permissionCount >= config.maxPermissions)) {
            refuseOverLimit(listener, client, "over --max-channels or --max-permissions", out);
            return;
        }
        if (byNumber == null) {
            allocation.addChannel(new ChannelBinding(number, peer, nowNs + ChannelBinding.LIFETIME_NS));
        } else {
            byNumber.expiresAtNs = nowNs + ChannelBinding.LIFETIME_NS;
        }
        installPermission(allocation, peer.getAddress(), nowNs);
        responses.success(listener, client, out);
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
    // Time

    /** Expires what is due: allocations (their relay sockets are closed), permissions, channels, reservations. */
    public void onTimer(long nowNs, Outbox out) {
        if (!sweepScheduled || nowNs - nextSweepNs < 0) {
            return;
        }
        allocations.sweep(nowNs, out);
        boolean rateLimiting = authentication.sweep(nowNs);
        sweepScheduled = allocations.hasExpiries() || rateLimiting;
        nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
    }

    private void scheduleSweep(long nowNs) {
        if (!sweepScheduled) {
            sweepScheduled = true;
            nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
        }
    }
}
