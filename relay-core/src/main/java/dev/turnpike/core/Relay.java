package dev.turnpike.core;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.auth.NonceIssuer;
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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;

/**
 * The sans-IO TURN relay (RFC 8656 over UDP, RFC 8489 STUN): datagrams and time in, an {@link Outbox} of
 * decisions out. No sockets, threads or clock: the caller passes {@code nowNs} (monotonic) and, where
 * credentials need it, {@code epochSeconds} (wall clock). Not thread-safe; one thread owns it.
 *
 * <p>The data plane (ChannelData, Send indications, peer datagrams) allocates nothing for IPv4 and ChannelData:
 * it looks up by the objects the loop already holds and writes headers in place in the receive buffer.
 */
public final class Relay {
    /** Bytes the loop must leave free in front of a received peer datagram (the largest Data indication header). */
    public static final int HEADROOM = 48;
    /** Bytes the loop must leave free behind a received peer datagram (Data indication padding). */
    public static final int TAILROOM = 3;

    private static final long NS_PER_SECOND = 1_000_000_000L;
    private static final long SWEEP_INTERVAL_NS = NS_PER_SECOND;
    /** RFC 8656 §7.2: a reserved even-port neighbour is held for 30 seconds. */
    private static final long RESERVATION_LIFETIME_NS = 30 * NS_PER_SECOND;

    private static final int OPEN_ATTEMPTS = 16;
    /** RFC 8489 §6.2.1: a client gives up on a transaction after Ti = 39.5 s; keep replies a little longer. */
    private static final long RETRANSMISSION_WINDOW_NS = 45 * NS_PER_SECOND;

    private static final int UDP = 17;

    /** An odd port held for an EVEN-PORT allocation's neighbour: its socket is bound, by no allocation. */
    private record Reservation(RelayEndpoint held, boolean ipv6, long expiresAtNs) {}

    private final RelayConfig config;
    private final RelaySockets sockets;
    private final PeerPolicy policy;
    private final Credentials credentials;
    private final NonceIssuer nonces;
    private final RelayCounters counters = new RelayCounters();
    private final StunMessage request = new StunMessage();
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final StunWriter writer = new StunWriter(integrity);
    private final ByteBuffer responseBuffer = ByteBuffer.allocate(2048);
    private final int[] unknownAttributes = new int[16];
    private final List<HashMap<InetSocketAddress, Allocation>> allocations = new ArrayList<>();
    private final RelayPortPool ipv4Ports;
    private final RelayPortPool ipv6Ports;
    private final HashMap<Long, Reservation> reservations = new HashMap<>();
    private final ChallengeLimiter challenges;
    /** --total-bps across every allocation, or null for no limit. */
    private final TokenBucket totalBandwidth;
    /** Live allocations per account (see {@link #account}) and per client IP, for the quotas. */
    private final HashMap<String, int[]> allocationsByAccount = new HashMap<>();

    private final HashMap<InetAddress, int[]> allocationsByClientIp = new HashMap<>();
    private int allocationCount;
    private long nextSweepNs;
    private boolean sweepScheduled;

    // The current request's authentication, set by authenticate(): which key, and which HMAC signs the answer.
    private Credentials.Key authenticated;
    private byte[] responseKey;
    private boolean responseSha256;

    public Relay(RelayConfig config, RelaySockets sockets) {
        this.config = config;
        this.sockets = sockets;
        this.policy = config.policy;
        this.credentials = config.credentials;
        this.nonces = new NonceIssuer(config.nonceKey, config.nonceLifetimeSeconds);
        for (int i = 0; i < config.listeners.size(); i++) {
            allocations.add(new HashMap<>());
        }
        this.ipv4Ports = new RelayPortPool(config.relayPortLow, config.relayPortHigh);
        this.ipv6Ports = new RelayPortPool(config.relayPortLow, config.relayPortHigh);
        this.challenges = new ChallengeLimiter(config.challengeRate, config.challengeBurst);
        this.totalBandwidth = config.totalBps == 0 ? null : bandwidthBucket(config.totalBps, 0);
    }

    /** Bytes a second from bits a second; room for one second's worth, and at least the largest datagram. */
    private static TokenBucket bandwidthBucket(long bitsPerSecond, long nowNs) {
        long bytesPerSecond = Math.max(1, Math.min(bitsPerSecond, RelayConfig.MAX_BPS) / 8);
        return new TokenBucket(bytesPerSecond, Math.max(bytesPerSecond, 65_535), nowNs);
    }

    public RelayCounters counters() {
        return counters;
    }

    public int allocationCount() {
        return allocationCount;
    }

    /** When {@link #onTimer} next has work; the loop sleeps no longer than this. Long.MAX_VALUE: never. */
    public long nextDeadlineNs() {
        return sweepScheduled ? nextSweepNs : Long.MAX_VALUE;
    }

    // ---------------------------------------------------------------------------------------------------
    // Input from clients (a listening socket)

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
            onClientChannelData(nowNs, listener, client, buffer, offset, length, out);
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
                    onSendIndication(nowNs, listener, client, out);
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
        authenticated = null;
        responseKey = null;
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
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
            return;
        }
        if (!authenticate(nowNs, epochSeconds, listener, client, out)
                || rejectUnknownAttributes(listener, client, out)) {
            return;
        }
        switch (method) {
            case StunMethod.ALLOCATE -> onAllocate(nowNs, listener, client, out);
            case StunMethod.REFRESH -> onRefresh(nowNs, listener, client, out);
            case StunMethod.CREATE_PERMISSION -> onCreatePermission(nowNs, listener, client, out);
            default -> onChannelBind(nowNs, listener, client, out);
        }
    }

    /** RFC 8489 §6.3.1.1: 420 listing the comprehension-required attributes we do not know. */
    private boolean rejectUnknownAttributes(int listener, InetSocketAddress client, Outbox out) {
        int unknown = request.unknownComprehensionRequired(unknownAttributes);
        if (unknown == 0) {
            return false;
        }
        respondUnknown(listener, client, unknown, out);
        return true;
    }

    // RFC 8489 §7.3.1: the success response carries the request's source as XOR-MAPPED-ADDRESS.
    private void onBinding(int listener, InetSocketAddress client, Outbox out) {
        counters.bindingRequests++;
        begin(StunMethod.CLASS_SUCCESS).addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, client);
        finish(listener, client, out);
    }

    // ---------------------------------------------------------------------------------------------------
    // Authentication: RFC 8489 §9.2 long-term credentials, RFC 8656 §7.2 (every TURN request)

    private boolean authenticate(long nowNs, long epochSeconds, int listener, InetSocketAddress client, Outbox out) {
        boolean sha1 = request.integrityIndex() >= 0;
        boolean sha256 = request.integritySha256Index() >= 0;
        if (!sha1 && !sha256) {
            challenge(ErrorCode.UNAUTHENTICATED, nowNs, listener, client, out);
            return false;
        }
        // Until a key verifies, every reply below goes through challenge() or refuseUnauthenticated(): rate-limited.
        int username = request.indexOf(StunAttribute.USERNAME);
        int userHash = request.indexOf(StunAttribute.USERHASH);
        String realm = request.string(StunAttribute.REALM);
        String nonce = request.string(StunAttribute.NONCE);
        if ((username < 0 && userHash < 0) || realm == null || nonce == null) {
            refuseUnauthenticated(nowNs, listener, client, out);
            return false;
        }
        if (nonces.check(nonce, client, nowNs) != NonceIssuer.Check.VALID) {
            challenge(ErrorCode.STALE_NONCE, nowNs, listener, client, out);
            return false;
        }
        // RFC 8489 §9.2.4: a client that saw our nonce cookie echoes PASSWORD-ALGORITHMS as we sent it and
        // picks one with PASSWORD-ALGORITHM; a client that sends neither uses MD5.
        int algorithm = LongTermKey.ALGORITHM_MD5;
        if (request.has(StunAttribute.PASSWORD_ALGORITHMS) || request.has(StunAttribute.PASSWORD_ALGORITHM)) {
            // We offer MD5 then SHA-256, each with empty parameters.
            algorithm = TurnAttributes.passwordAlgorithm(request);
            if (!TurnAttributes.passwordAlgorithmsAre(request, LongTermKey.ALGORITHM_MD5, LongTermKey.ALGORITHM_SHA256)
                    || (algorithm != LongTermKey.ALGORITHM_MD5 && algorithm != LongTermKey.ALGORITHM_SHA256)) {
                refuseUnauthenticated(nowNs, listener, client, out);
                return false;
            }
        }
        if (!realm.equals(credentials.realm())) {
            challenge(ErrorCode.UNAUTHENTICATED, nowNs, listener, client, out);
            return false;
        }
        List<Credentials.Key> candidates = username >= 0
                ? credentials.candidates(request.string(StunAttribute.USERNAME), epochSeconds)
                : credentials.candidatesByHash(request.bytes(userHash));
        Credentials.Key match = null;
        byte[] matchKey = null;
        for (Credentials.Key candidate : candidates) {
            byte[] key = algorithm == LongTermKey.ALGORITHM_SHA256 ? candidate.sha256() : candidate.md5();
            // When both are present, the stronger MESSAGE-INTEGRITY-SHA256 decides (RFC 8489 §9.2.4).
            boolean valid = sha256 ? integrity.verifySha256(request, key) : integrity.verifySha1(request, key);
            if (valid && match == null && !credentials.isDecoy(candidate)) {
                match = candidate;
                matchKey = key;
            }
        }
        if (match == null) {
            challenge(ErrorCode.UNAUTHENTICATED, nowNs, listener, client, out);
            return false;
        }
        authenticated = match;
        responseKey = matchKey;
        responseSha256 = sha256;
        return true;
    }

    /** 400 to a request whose authentication attributes are malformed; rate-limited like a challenge. */
    private void refuseUnauthenticated(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        if (withinChallengeRate(client, nowNs)) {
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
        }
    }

    private boolean withinChallengeRate(InetSocketAddress client, long nowNs) {
        if (challenges.allow(client.getAddress(), nowNs)) {
            scheduleSweep(nowNs); // so that the limiter forgets sources that went quiet
            return true;
        }
        counters.drop(RelayCounters.Drop.CHALLENGE_LIMITED);
        return false;
    }

    /**
     * 401 or 438 with REALM, a fresh NONCE and PASSWORD-ALGORITHMS, unsigned (RFC 8489 §9.2.4); nothing when the
     * source is over its reply rate (anyone can send these with a forged source address).
     */
    private void challenge(ErrorCode error, long nowNs, int listener, InetSocketAddress client, Outbox out) {
        if (!withinChallengeRate(client, nowNs)) {
            return;
        }
        counters.errorResponses++;
        begin(StunMethod.CLASS_ERROR)
                .addErrorCode(error.code, error.reason)
                .addString(StunAttribute.REALM, credentials.realm())
                .addString(StunAttribute.NONCE, nonces.issue(client, nowNs))
                .addPasswordAlgorithms(LongTermKey.ALGORITHM_MD5, LongTermKey.ALGORITHM_SHA256);
        finish(listener, client, out);
    }

    // ---------------------------------------------------------------------------------------------------
    // Allocate: RFC 8656 §7.2

    private void onAllocate(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        HashMap<InetSocketAddress, Allocation> byClient = allocations.get(listener);
        Allocation existing = byClient.get(client);
        if (existing != null && existing.expiresAtNs - nowNs <= 0) {
            delete(existing, out);
            existing = null;
        }
        if (existing != null) {
            if (existing.allocateTxHigh == request.transactionIdHigh()
                    && existing.allocateTxLow == request.transactionIdLow()
                    && existing.allocateResponse != null) {
                out.add(new Command.SendToClient(listener, client, existing.allocateResponse)); // a retransmission
            } else {
                respondError(listener, client, ErrorCode.ALLOCATION_MISMATCH, out);
            }
            return;
        }
        int transport = request.firstByte(StunAttribute.REQUESTED_TRANSPORT);
        if (transport < 0) {
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
            return;
        }
        if (transport != UDP) {
            respondError(listener, client, ErrorCode.UNSUPPORTED_TRANSPORT_PROTOCOL, out);
            return;
        }
        boolean dontFragment = request.has(StunAttribute.DONT_FRAGMENT);
        if (dontFragment && !sockets.supportsDontFragment()) {
            // RFC 8656 §7.2: without DF support the attribute is treated as unknown.
            unknownAttributes[0] = StunAttribute.DONT_FRAGMENT;
            respondUnknown(listener, client, 1, out);
            return;
        }
        boolean hasToken = request.has(StunAttribute.RESERVATION_TOKEN);
        TurnAttributes.EvenPort evenPort = TurnAttributes.evenPort(request);
        boolean hasEvenPort = evenPort != TurnAttributes.EvenPort.ABSENT;
        boolean hasRequestedFamily = request.has(StunAttribute.REQUESTED_ADDRESS_FAMILY);
        boolean hasAdditionalFamily = request.has(StunAttribute.ADDITIONAL_ADDRESS_FAMILY);
        boolean reserveNext = evenPort == TurnAttributes.EvenPort.EVEN_AND_RESERVE_NEXT;
        if (evenPort == TurnAttributes.EvenPort.MALFORMED
                || (hasToken && (hasEvenPort || hasRequestedFamily || hasAdditionalFamily))
                || (hasRequestedFamily && hasAdditionalFamily)
                || (hasAdditionalFamily && reserveNext)) {
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
            return;
        }
        boolean wantIpv4 = true;
        boolean wantIpv6 = false;
        if (hasRequestedFamily) {
            int family = request.firstByte(StunAttribute.REQUESTED_ADDRESS_FAMILY);
            if (family != TurnAttributes.FAMILY_IPV4 && family != TurnAttributes.FAMILY_IPV6) {
                respondError(listener, client, ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED, out);
                return;
            }
            wantIpv4 = family == TurnAttributes.FAMILY_IPV4;
            wantIpv6 = family == TurnAttributes.FAMILY_IPV6;
        }
        if (hasAdditionalFamily) {
            if (request.firstByte(StunAttribute.ADDITIONAL_ADDRESS_FAMILY) != TurnAttributes.FAMILY_IPV6) {
                respondError(listener, client, ErrorCode.BAD_REQUEST, out);
                return;
            }
            wantIpv6 = true; // RFC 8656 §7.2: dual allocation, IPv4 and IPv6
        }
        boolean ipv6Unavailable = hasAdditionalFamily && config.relayIpv6 == null;
        if (!hasToken
                && ((wantIpv4 && config.relayIpv4 == null)
                        || (wantIpv6 && !hasAdditionalFamily && config.relayIpv6 == null))) {
            respondError(listener, client, ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED, out);
            return;
        }

        String account = account(authenticated);
        if (overQuota(account, client.getAddress())) {
            counters.allocationsRefusedQuota++;
            respondError(listener, client, ErrorCode.ALLOCATION_QUOTA_REACHED, out);
            return;
        }
        Allocation allocation = new Allocation(listener, client, authenticated, account);
        if (config.maxBps > 0) {
            allocation.bandwidth = bandwidthBucket(config.maxBps, nowNs);
        }
        RelayEndpoint held = null;
        if (hasToken) {
            // The port was bound when it was reserved; the held socket now serves this allocation.
            Reservation reservation = claimReservation(nowNs, out);
            RelayEndpoint endpoint = reservation == null ? null : adopt(allocation, reservation, dontFragment, out);
            if (endpoint == null) {
                refuseNoPort(listener, client, out);
                return;
            }
            if (reservation.ipv6()) {
                allocation.ipv6 = endpoint;
            } else {
                allocation.ipv4 = endpoint;
            }
        } else if (reserveNext) {
            // EVEN-PORT with R: one family only (checked above), an even port and its bound neighbour
            RelayEndpoint[] pair = openEvenPair(allocation, wantIpv6, dontFragment, out);
            if (pair == null) {
                refuseNoPort(listener, client, out);
                return;
            }
            if (wantIpv6) {
                allocation.ipv6 = pair[0];
            } else {
                allocation.ipv4 = pair[0];
            }
            held = pair[1];
        } else {
            if (wantIpv4) {
                allocation.ipv4 = openEndpoint(allocation, false, hasEvenPort, dontFragment);
            }
            if (wantIpv6 && !ipv6Unavailable) {
                allocation.ipv6 = openEndpoint(allocation, true, hasEvenPort, dontFragment);
            }
            if ((wantIpv4 && allocation.ipv4 == null) || (wantIpv6 && !ipv6Unavailable && allocation.ipv6 == null)) {
                releaseEndpoints(allocation, out);
                refuseNoPort(listener, client, out);
                return;
            }
        }
        long token = 0;
        if (held != null) {
            token = config.random.nextLong();
            reservations.put(token, new Reservation(held, wantIpv6, nowNs + RESERVATION_LIFETIME_NS));
            scheduleSweep(nowNs);
        }
        long lifetime = grantedLifetime(request.u32Value(StunAttribute.LIFETIME, RelayConfig.DEFAULT_LIFETIME_SECONDS));
        allocation.expiresAtNs = nowNs + lifetime * NS_PER_SECOND;
        byClient.put(client, allocation);
        allocationCount++;
        count(allocationsByAccount, account, +1);
        count(allocationsByClientIp, client.getAddress(), +1);
        counters.allocationsCreated++;
        scheduleSweep(nowNs);

        begin(StunMethod.CLASS_SUCCESS);
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
        if (held != null) {
            writer.addBytes(StunAttribute.RESERVATION_TOKEN, longBytes(token));
        }
        writer.addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, client);
        allocation.createdAtNs = nowNs;
        allocation.allocateTxHigh = request.transactionIdHigh();
        allocation.allocateTxLow = request.transactionIdLow();
        allocation.allocateResponse = finish(listener, client, out);
    }

    /**
     * Whom the per-user quota counts: the username, or for a time-limited (REST) username "EXPIRY:name" the name,
     * so that minting fresh expiries does not mint fresh quota.
     */
    private static String account(Credentials.Key key) {
        String username = key.username();
        int colon = username.indexOf(':');
        return colon < 0 ? username : username.substring(colon + 1);
    }

    private boolean overQuota(String account, InetAddress clientIp) {
        return (config.maxAllocations > 0 && allocationCount >= config.maxAllocations)
                || (config.userQuota > 0 && live(allocationsByAccount, account) >= config.userQuota)
                || (config.clientQuota > 0 && live(allocationsByClientIp, clientIp) >= config.clientQuota);
    }

    private static <K> int live(HashMap<K, int[]> counts, K key) {
        int[] count = counts.get(key);
        return count == null ? 0 : count[0];
    }

    private static <K> void count(HashMap<K, int[]> counts, K key, int delta) {
        int[] count = counts.computeIfAbsent(key, k -> new int[1]);
        count[0] += delta;
        if (count[0] <= 0) {
            counts.remove(key);
        }
    }

    /** RFC 8656 §7.2, §7.3: the lifetime asked for, at most the maximum and at least the default. */
    private long grantedLifetime(long requestedSeconds) {
        return Math.min(
                Math.max(RelayConfig.DEFAULT_LIFETIME_SECONDS, Math.min(requestedSeconds, config.maxLifetimeSeconds)),
                config.maxLifetimeSeconds);
    }

    private void refuseNoPort(int listener, InetSocketAddress client, Outbox out) {
        counters.allocationsRefusedNoPort++;
        respondError(listener, client, ErrorCode.INSUFFICIENT_CAPACITY, out);
    }

    /** The reservation the request's token names, removed; null if unknown or expired (its socket closed). */
    private Reservation claimReservation(long nowNs, Outbox out) {
        if (!TurnAttributes.hasReservationToken(request)) {
            return null;
        }
        Reservation reservation = reservations.remove(TurnAttributes.reservationToken(request));
        if (reservation != null && reservation.expiresAtNs() - nowNs <= 0) {
            unhold(reservation, out);
            return null;
        }
        return reservation;
    }

    /** Hands the held socket to {@code allocation}; null (and the port given up) if the loop cannot. */
    private RelayEndpoint adopt(Allocation allocation, Reservation reservation, boolean dontFragment, Outbox out) {
        RelayEndpoint held = reservation.held();
        RelayEndpoint endpoint = new RelayEndpoint(held.local(), held.advertised(), allocation, dontFragment);
        if (sockets.adopt(held, endpoint)) {
            return endpoint;
        }
        unhold(reservation, out);
        return null;
    }

    private void unhold(Reservation reservation, Outbox out) {
        out.add(new Command.CloseRelay(reservation.held()));
        pool(reservation.ipv6()).release(reservation.held().port());
    }

    /** A bound relay port from the pool (an even one if asked), or null after a few ports proved taken. */
    private RelayEndpoint openEndpoint(Allocation allocation, boolean ipv6, boolean even, boolean dontFragment) {
        RelayPortPool pool = pool(ipv6);
        for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
            int port = pool.acquire(config.random, even, false);
            if (port < 0) {
                return null;
            }
            RelayEndpoint endpoint = endpoint(ipv6, port, allocation, dontFragment);
            if (sockets.open(endpoint)) {
                return endpoint;
            }
            pool.release(port); // taken by another process; try another
        }
        return null;
    }

    /**
     * EVEN-PORT with the R bit (RFC 8656 §7.2): an even port for {@code allocation} and the next one up, bound
     * now and held by no allocation until a RESERVATION-TOKEN claims it, so no other process can take it in the
     * meantime. Answers both, or null after a few pairs proved taken.
     */
    private RelayEndpoint[] openEvenPair(Allocation allocation, boolean ipv6, boolean dontFragment, Outbox out) {
        RelayPortPool pool = pool(ipv6);
        for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
            int port = pool.acquire(config.random, true, true);
            if (port < 0) {
                return null;
            }
            pool.take(port + 1);
            RelayEndpoint even = endpoint(ipv6, port, allocation, dontFragment);
            RelayEndpoint held = endpoint(ipv6, port + 1, null, false);
            if (sockets.open(even)) {
                if (sockets.open(held)) {
                    return new RelayEndpoint[] {even, held};
                }
                out.add(new Command.CloseRelay(even));
            }
            pool.release(port); // either port taken by another process; try another pair
            pool.release(port + 1);
        }
        return null;
    }

    private RelayEndpoint endpoint(boolean ipv6, int port, Allocation allocation, boolean dontFragment) {
        InetSocketAddress local = new InetSocketAddress(ipv6 ? config.relayIpv6 : config.relayIpv4, port);
        InetAddress advertised = ipv6 ? config.publicIpv6 : config.publicIpv4;
        return new RelayEndpoint(
                local, advertised != null ? new InetSocketAddress(advertised, port) : local, allocation, dontFragment);
    }

    private RelayPortPool pool(boolean ipv6) {
        return ipv6 ? ipv6Ports : ipv4Ports;
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
    private Allocation requireAllocation(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = allocations.get(listener).get(client);
        if (allocation != null && allocation.expiresAtNs - nowNs <= 0) {
            delete(allocation, out);
            allocation = null;
        }
        if (allocation == null) {
            respondError(listener, client, ErrorCode.ALLOCATION_MISMATCH, out);
            return null;
        }
        if (!allocation.credentials.username().equals(authenticated.username())) {
            respondError(listener, client, ErrorCode.WRONG_CREDENTIALS, out);
            return null;
        }
        return allocation;
    }

    private void onRefresh(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = requireAllocation(nowNs, listener, client, out);
        if (allocation == null) {
            return;
        }
        int family = request.firstByte(StunAttribute.REQUESTED_ADDRESS_FAMILY);
        if ((family == TurnAttributes.FAMILY_IPV4 && allocation.ipv4 == null)
                || (family == TurnAttributes.FAMILY_IPV6 && allocation.ipv6 == null)) {
            respondError(listener, client, ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH, out);
            return;
        }
        // RFC 8656 §7.3: zero deletes; otherwise at most the maximum and at least the default, as for Allocate
        long requested = request.u32Value(StunAttribute.LIFETIME, RelayConfig.DEFAULT_LIFETIME_SECONDS);
        long lifetime = requested == 0 ? 0 : grantedLifetime(requested);
        if (lifetime == 0) {
            delete(allocation, out);
        } else {
            allocation.expiresAtNs = nowNs + lifetime * NS_PER_SECOND;
        }
        begin(StunMethod.CLASS_SUCCESS).addU32(StunAttribute.LIFETIME, lifetime);
        finish(listener, client, out);
    }

    private void onCreatePermission(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = requireAllocation(nowNs, listener, client, out);
        if (allocation == null) {
            return;
        }
        int first = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        if (first < 0) {
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
            return;
        }
        // All or nothing (RFC 8656 §9.2): check every peer before installing any.
        for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            InetSocketAddress peer = request.xorAddress(i);
            ErrorCode refusal = peer == null ? ErrorCode.BAD_REQUEST : refusePeerIp(allocation, peer.getAddress());
            if (refusal != null) {
                respondError(listener, client, refusal, out);
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
                refuseOverLimit(listener, client, out); // RFC 8656 §9.2: 508 when it cannot install them
                return;
            }
        }
        for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            InetAddress peer = request.xorAddress(i).getAddress();
            installPermission(allocation, peer, nowNs);
        }
        begin(StunMethod.CLASS_SUCCESS);
        finish(listener, client, out);
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

    private void refuseOverLimit(int listener, InetSocketAddress client, Outbox out) {
        counters.refusedOverLimit++;
        respondError(listener, client, ErrorCode.INSUFFICIENT_CAPACITY, out);
    }

    /**
     * The allocation's own relayed transport address: relaying to it would echo every packet back into the
     * allocation. A peer IP of the relay's own (SELF) on the allocation's relay port is it, whichever of the
     * relay's addresses (bound or advertised) names it.
     */
    private boolean isOwnRelayedAddress(Allocation allocation, InetAddress peerIp, boolean self, int port) {
        RelayEndpoint endpoint = allocation.endpointFor(peerIp);
        return self && endpoint != null && endpoint.port() == port;
    }

    /** 443 when the allocation has no relay address of the peer's family, 403 when policy refuses it. */
    private ErrorCode refusePeerIp(Allocation allocation, InetAddress peer) {
        if (allocation.endpointFor(peer) == null) {
            return ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH;
        }
        if (policy.judge(peer) == PeerPolicy.Verdict.DENIED) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            return ErrorCode.FORBIDDEN;
        }
        return null;
    }

    private void installPermission(Allocation allocation, InetAddress peer, long nowNs) {
        Permission permission = allocation.permissions.get(peer);
        if (permission == null) {
            boolean self = policy.judge(peer) == PeerPolicy.Verdict.SELF;
            allocation.addPermission(new Permission(peer, self, nowNs + Permission.LIFETIME_NS));
        } else {
            permission.expiresAtNs = nowNs + Permission.LIFETIME_NS;
        }
    }

    private void onChannelBind(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = requireAllocation(nowNs, listener, client, out);
        if (allocation == null) {
            return;
        }
        int maxChannel = config.rfc5766ChannelNumbers ? ChannelData.MAX_CHANNEL_RFC5766 : ChannelData.MAX_CHANNEL;
        int number = TurnAttributes.channelNumber(request);
        int peerIndex = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        InetSocketAddress peer = peerIndex < 0 ? null : request.xorAddress(peerIndex);
        if (number < ChannelData.MIN_CHANNEL || number > maxChannel || peer == null) {
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
            return;
        }
        ErrorCode refusal = refusePeerIp(allocation, peer.getAddress());
        if (refusal == null
                && (!policy.permits(peer)
                        || isOwnRelayedAddress(
                                allocation,
                                peer.getAddress(),
                                policy.judge(peer.getAddress()) == PeerPolicy.Verdict.SELF,
                                peer.getPort()))) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            refusal = ErrorCode.FORBIDDEN;
        }
        if (refusal != null) {
            respondError(listener, client, refusal, out);
            return;
        }
        allocation.sweep(nowNs); // an expired binding no longer holds its number or peer
        ChannelBinding byNumber = allocation.channel(number);
        ChannelBinding byPeer = allocation.channelsByPeer.get(peer);
        // RFC 8656 §12.2: a number stands for one peer and a peer has one number, for the binding's life.
        if ((byNumber != null && !byNumber.peer.equals(peer)) || (byPeer != null && byPeer.number != number)) {
            respondError(listener, client, ErrorCode.BAD_REQUEST, out);
            return;
        }
        if ((byNumber == null && config.maxChannels > 0 && allocation.channelCount >= config.maxChannels)
                || (config.maxPermissions > 0
                        && !allocation.permissions.containsKey(peer.getAddress())
                        && allocation.permissionCount >= config.maxPermissions)) {
            refuseOverLimit(listener, client, out);
            return;
        }
        if (byNumber == null) {
            allocation.addChannel(new ChannelBinding(number, peer, nowNs + ChannelBinding.LIFETIME_NS));
        } else {
            byNumber.expiresAtNs = nowNs + ChannelBinding.LIFETIME_NS;
        }
        installPermission(allocation, peer.getAddress(), nowNs);
        begin(StunMethod.CLASS_SUCCESS);
        finish(listener, client, out);
    }

    // ---------------------------------------------------------------------------------------------------
    // Data plane

    private Allocation liveAllocation(int listener, InetSocketAddress client, long nowNs) {
        Allocation allocation = allocations.get(listener).get(client);
        return allocation != null && allocation.expiresAtNs - nowNs > 0 ? allocation : null;
    }

    private static boolean live(Permission permission, long nowNs) {
        return permission != null && permission.expiresAtNs - nowNs > 0;
    }

    // RFC 8656 §12.6: ChannelData from the client goes to the channel's peer.
    private void onClientChannelData(
            long nowNs, int listener, InetSocketAddress client, ByteBuffer buffer, int offset, int length, Outbox out) {
        int payloadLength = ChannelData.payloadLength(buffer, offset, length);
        if (payloadLength < 0) {
            counters.drop(RelayCounters.Drop.MALFORMED);
            return;
        }
        Allocation allocation = liveAllocation(listener, client, nowNs);
        if (allocation == null) {
            counters.drop(RelayCounters.Drop.NO_ALLOCATION);
            return;
        }
        ChannelBinding channel = allocation.channel(ChannelData.channelNumber(buffer, offset));
        if (channel == null
                || channel.expiresAtNs - nowNs <= 0
                || !live(allocation.permissions.get(channel.peer.getAddress()), nowNs)) {
            counters.drop(RelayCounters.Drop.NO_PERMISSION);
            return;
        }
        if (!withinBandwidth(allocation, payloadLength, nowNs)) {
            return;
        }
        counters.packetsClientToPeer++;
        counters.bytesClientToPeer += payloadLength;
        out.forwardToPeer(
                allocation.endpointFor(channel.peer.getAddress()),
                channel.peer,
                offset + ChannelData.HEADER_LENGTH,
                payloadLength);
    }

    // RFC 8656 §11.2: a Send indication's DATA goes to its XOR-PEER-ADDRESS, if permitted. The peer is matched
    // against the permissions in its wire format, so the usual case allocates nothing.
    private void onSendIndication(long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = liveAllocation(listener, client, nowNs);
        if (allocation == null) {
            counters.drop(RelayCounters.Drop.NO_ALLOCATION);
            return;
        }
        int peerIndex = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        int dataIndex = request.indexOf(StunAttribute.DATA);
        if (peerIndex < 0 || dataIndex < 0 || request.valueLength(peerIndex) < 8) {
            counters.drop(RelayCounters.Drop.MALFORMED);
            return;
        }
        int value = request.valueOffset(peerIndex);
        Permission permission =
                allocation.permission(request.buffer(), value, request.valueLength(peerIndex), request.offset());
        if (permission == null || permission.expiresAtNs - nowNs <= 0) {
            InetSocketAddress peer = request.xorAddress(peerIndex);
            if (peer == null) {
                counters.drop(RelayCounters.Drop.MALFORMED);
            } else if (allocation.endpointFor(peer.getAddress()) == null || !policy.permits(peer)) {
                counters.drop(RelayCounters.Drop.PEER_DENIED);
            } else {
                counters.drop(RelayCounters.Drop.NO_PERMISSION);
            }
            return;
        }
        int port = TurnAttributes.xorPort(request.buffer(), value);
        if ((permission.self && !policy.isRelayPort(port))
                || policy.isListener(permission.peer, port)
                || isOwnRelayedAddress(allocation, permission.peer, permission.self, port)) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            return;
        }
        if (!withinBandwidth(allocation, request.valueLength(dataIndex), nowNs)) {
            return;
        }
        counters.packetsClientToPeer++;
        counters.bytesClientToPeer += request.valueLength(dataIndex);
        out.forwardToPeer(
                allocation.endpointFor(permission.peer),
                permission.destination(port),
                request.valueOffset(dataIndex),
                request.valueLength(dataIndex));
    }

    /** Takes {@code bytes} from the allocation's and the relay's bandwidth; false (counted) when either is out. */
    private boolean withinBandwidth(Allocation allocation, int bytes, long nowNs) {
        if ((allocation.bandwidth != null && !allocation.bandwidth.take(bytes, nowNs))
                || (totalBandwidth != null && !totalBandwidth.take(bytes, nowNs))) {
            counters.drop(RelayCounters.Drop.BANDWIDTH);
            return false;
        }
        return true;
    }

    /**
     * A datagram from {@code peer} arrived on {@code relay}'s socket. The payload sits at {@code offset} with
     * at least {@link #HEADROOM} bytes free in front of it and 3 behind it, where the ChannelData or Data
     * indication header and padding are written in place.
     */
    public void onPeerDatagram(
            long nowNs,
            RelayEndpoint relay,
            InetSocketAddress peer,
            ByteBuffer buffer,
            int offset,
            int length,
            Outbox out) {
        Allocation allocation = relay.allocation;
        if (allocation == null || allocation.released || allocation.expiresAtNs - nowNs <= 0) {
            // null: a reserved port, held for an allocation not made yet
            counters.drop(RelayCounters.Drop.NO_ALLOCATION);
            return;
        }
        Permission permission = allocation.permissions.get(peer.getAddress());
        if (!live(permission, nowNs)) {
            counters.drop(RelayCounters.Drop.NO_PERMISSION);
            return;
        }
        if (permission.self && !policy.isRelayPort(peer.getPort())) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            return;
        }
        if (!withinBandwidth(allocation, length, nowNs)) {
            return;
        }
        counters.packetsPeerToClient++;
        counters.bytesPeerToClient += length;
        ChannelBinding channel = allocation.channelsByPeer.get(peer);
        if (channel != null && channel.expiresAtNs - nowNs > 0) {
            // RFC 8656 §12.5: over UDP the ChannelData padding is optional, so none is sent.
            int start = offset - ChannelData.HEADER_LENGTH;
            ChannelData.writeHeader(buffer, start, channel.number, length);
            out.forwardToClient(allocation.listener, allocation.client, start, length + ChannelData.HEADER_LENGTH);
            return;
        }
        int start = DataIndication.write(
                buffer,
                offset,
                length,
                config.random.nextLong(),
                config.random.nextInt(),
                permission.ipv4,
                permission.ipv6,
                peer.getPort());
        int total = DataIndication.headerLength(permission.ipv6 == null ? 4 : 16) + length + ((4 - (length & 3)) & 3);
        out.forwardToClient(allocation.listener, allocation.client, start, total);
    }

    // ---------------------------------------------------------------------------------------------------
    // Time

    /** Expires what is due: allocations (their relay sockets are closed), permissions, channels, reservations. */
    public void onTimer(long nowNs, Outbox out) {
        if (!sweepScheduled || nowNs - nextSweepNs < 0) {
            return;
        }
        for (HashMap<InetSocketAddress, Allocation> byClient : allocations) {
            Iterator<Allocation> it = byClient.values().iterator();
            while (it.hasNext()) {
                Allocation allocation = it.next();
                if (allocation.expiresAtNs - nowNs <= 0) {
                    it.remove();
                    release(allocation, out);
                } else {
                    allocation.sweep(nowNs);
                    if (allocation.allocateResponse != null
                            && nowNs - allocation.createdAtNs > RETRANSMISSION_WINDOW_NS) {
                        allocation.allocateResponse = null; // no retransmission of the Allocate can come any more
                    }
                }
            }
        }
        Iterator<Reservation> reserved = reservations.values().iterator();
        while (reserved.hasNext()) {
            Reservation reservation = reserved.next();
            if (reservation.expiresAtNs() - nowNs <= 0) {
                reserved.remove();
                unhold(reservation, out);
            }
        }
        boolean rateLimiting = challenges.sweep(nowNs);
        sweepScheduled = allocationCount > 0 || !reservations.isEmpty() || rateLimiting;
        nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
    }

    private void scheduleSweep(long nowNs) {
        if (!sweepScheduled) {
            sweepScheduled = true;
            nextSweepNs = nowNs + SWEEP_INTERVAL_NS;
        }
    }

    private void delete(Allocation allocation, Outbox out) {
        allocations.get(allocation.listener).remove(allocation.client);
        release(allocation, out);
    }

    private void release(Allocation allocation, Outbox out) {
        allocation.released = true; // datagrams still queued for its sockets are dropped
        releaseEndpoints(allocation, out);
        allocationCount--;
        count(allocationsByAccount, allocation.account, -1);
        count(allocationsByClientIp, allocation.client.getAddress(), -1);
        counters.allocationsDeleted++;
    }

    private void releaseEndpoints(Allocation allocation, Outbox out) {
        for (RelayEndpoint endpoint : new RelayEndpoint[] {allocation.ipv4, allocation.ipv6}) {
            if (endpoint != null) {
                out.add(new Command.CloseRelay(endpoint));
                pool(endpoint == allocation.ipv6).release(endpoint.port());
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Responses

    private StunWriter begin(int messageClass) {
        return writer.begin(responseBuffer, 0, StunMethod.messageType(request.method(), messageClass), request);
    }

    private void respondError(int listener, InetSocketAddress client, ErrorCode error, Outbox out) {
        counters.errorResponses++;
        begin(StunMethod.CLASS_ERROR).addErrorCode(error.code, error.reason);
        finish(listener, client, out);
    }

    private void respondUnknown(int listener, InetSocketAddress client, int unknown, Outbox out) {
        counters.errorResponses++;
        ErrorCode error = ErrorCode.UNKNOWN_ATTRIBUTE;
        begin(StunMethod.CLASS_ERROR)
                .addErrorCode(error.code, error.reason)
                .addUnknownAttributes(unknownAttributes, unknown);
        finish(listener, client, out);
    }

    /**
     * SOFTWARE; MESSAGE-INTEGRITY (or -SHA256, as the request used) when the request authenticated;
     * FINGERPRINT when the request had one. Queues the response and answers its bytes.
     */
    private byte[] finish(int listener, InetSocketAddress client, Outbox out) {
        if (config.software != null) {
            writer.addString(StunAttribute.SOFTWARE, config.software);
        }
        if (responseKey != null) {
            if (responseSha256) {
                writer.addMessageIntegritySha256(responseKey);
            } else {
                writer.addMessageIntegrity(responseKey);
            }
        }
        if (request.fingerprintIndex() >= 0) {
            writer.addFingerprint();
        }
        byte[] bytes = writer.toBytes();
        out.add(new Command.SendToClient(listener, client, bytes));
        return bytes;
    }
}
