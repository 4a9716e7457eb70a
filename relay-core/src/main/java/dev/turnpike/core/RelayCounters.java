package dev.turnpike.core;

/**
 * What the core counts. Written only by the thread that owns the core; others read a snapshot the loop
 * publishes. Plain longs: there is one writer.
 */
public final class RelayCounters {
    /** Why a datagram was dropped. There is no "socket busy" reason: the loop buffers instead. */
    public enum Drop {
        MALFORMED,
        NO_ALLOCATION,
        NO_PERMISSION,
        PEER_DENIED,
        /** Over --max-bps (the allocation's) or --total-bps: the one drop a relay may choose. */
        BANDWIDTH,
        /** An unauthenticated request from a source over its reply rate: answered with silence. */
        CHALLENGE_LIMITED
    }

    /** Why a request did not authenticate (each answered with a challenge or a 400, within the reply rate). */
    public enum AuthFailure {
        /** No MESSAGE-INTEGRITY: every client's first request, so mostly not a failure at all. */
        NO_INTEGRITY,
        /** USERNAME, REALM or NONCE missing, or the password algorithms not as offered: 400. */
        MALFORMED,
        /** A nonce this relay issued, expired (--nonce-lifetime). */
        STALE_NONCE,
        /** A nonce this relay did not issue, or issued to another client address. */
        INVALID_NONCE,
        /** A realm other than this relay's. */
        WRONG_REALM,
        /** A wrong password, an unknown user, or expired time-limited credentials. */
        BAD_CREDENTIALS,
        /** Credentials the operator revoked (answered as wrong ones: 401). */
        REVOKED
    }

    /** RFC 6062 TCP relaying, what happened to connections to peers. */
    public enum TcpRelay {
        /** Connect asked, and a connect to the peer begun. */
        CONNECTS,
        /** A Connect answered 447: the peer refused, was unreachable, or did not answer within 30 s. */
        CONNECTS_FAILED,
        /** A peer connected to a TCP relayed address with a permission: a ConnectionAttempt sent. */
        ACCEPTED,
        /** A ConnectionBind answered: a client data connection paired with a peer connection. */
        BINDS,
        /** A ConnectionBind refused: an unknown, expired or bound CONNECTION-ID, or another user's. */
        BINDS_REFUSED,
        /** A peer connection closed because no ConnectionBind came within 30 s. */
        BIND_TIMEOUTS
    }

    private final long[] drops = new long[Drop.values().length];
    private final long[] tcpRelay = new long[TcpRelay.values().length];
    private final long[] authFailures = new long[AuthFailure.values().length];
    long bindingRequests;
    long stunRequests;
    long indicationsIgnored;
    long errorResponses;
    long allocationsCreated;
    long allocationsDeleted;
    long allocationsRefusedNoPort;
    long allocationsRefusedQuota;
    long allocationsRefusedDraining;
    long allocationsClosedWithConnection;
    long refusedOverLimit;
    long peersRefused;
    long packetsClientToPeer;
    long bytesClientToPeer;
    long packetsPeerToClient;
    long bytesPeerToClient;
    /**
     * Datagrams from a client to another allocation of this relay: delivered inside, in this worker, or through
     * the host to another worker's bound address (never to a public address the host may not reach).
     */
    long sameRelayInside;

    long sameRelayThroughHost;

    /** A copy, for the loop to publish to other threads (the metrics endpoint). */
    public RelayCounters copy() {
        return new RelayCounters().add(this);
    }

    /** Adds {@code other}'s counts to these, and answers these: the workers' counters summed for the process. */
    public RelayCounters add(RelayCounters other) {
        for (int i = 0; i < drops.length; i++) {
            drops[i] += other.drops[i];
        }
        for (int i = 0; i < authFailures.length; i++) {
            authFailures[i] += other.authFailures[i];
        }
        for (int i = 0; i < tcpRelay.length; i++) {
            tcpRelay[i] += other.tcpRelay[i];
        }
        bindingRequests += other.bindingRequests;
        stunRequests += other.stunRequests;
        indicationsIgnored += other.indicationsIgnored;
        errorResponses += other.errorResponses;
        allocationsCreated += other.allocationsCreated;
        allocationsDeleted += other.allocationsDeleted;
        allocationsRefusedNoPort += other.allocationsRefusedNoPort;
        allocationsRefusedQuota += other.allocationsRefusedQuota;
        allocationsRefusedDraining += other.allocationsRefusedDraining;
        allocationsClosedWithConnection += other.allocationsClosedWithConnection;
        refusedOverLimit += other.refusedOverLimit;
        peersRefused += other.peersRefused;
        packetsClientToPeer += other.packetsClientToPeer;
        bytesClientToPeer += other.bytesClientToPeer;
        packetsPeerToClient += other.packetsPeerToClient;
        bytesPeerToClient += other.bytesPeerToClient;
        sameRelayInside += other.sameRelayInside;
        sameRelayThroughHost += other.sameRelayThroughHost;
        return this;
    }

    /** Allocations now live: created and not yet deleted or expired. */
    public long allocationsLive() {
        return allocationsCreated - allocationsDeleted;
    }

    public void drop(Drop reason) {
        drops[reason.ordinal()]++;
    }

    public void authFailure(AuthFailure reason) {
        authFailures[reason.ordinal()]++;
    }

    public long authFailures(AuthFailure reason) {
        return authFailures[reason.ordinal()];
    }

    void count(TcpRelay event) {
        tcpRelay[event.ordinal()]++;
    }

    public long tcpRelay(TcpRelay event) {
        return tcpRelay[event.ordinal()];
    }

    public long dropped(Drop reason) {
        return drops[reason.ordinal()];
    }

    public long bindingRequests() {
        return bindingRequests;
    }

    public long stunRequests() {
        return stunRequests;
    }

    /** Indications other than Send: keepalives and the like, read and deliberately left unanswered. */
    public long indicationsIgnored() {
        return indicationsIgnored;
    }

    public long errorResponses() {
        return errorResponses;
    }

    public long allocationsCreated() {
        return allocationsCreated;
    }

    public long allocationsDeleted() {
        return allocationsDeleted;
    }

    /** Allocate requests answered 508: no relay port (or reserved port) could be had. */
    public long allocationsRefusedNoPort() {
        return allocationsRefusedNoPort;
    }

    /** Allocate requests answered 486: over --max-allocations, --user-quota or --client-quota. */
    public long allocationsRefusedQuota() {
        return allocationsRefusedQuota;
    }

    /** Allocations that ended because their client's TCP or TLS connection closed. */
    public long allocationsClosedWithConnection() {
        return allocationsClosedWithConnection;
    }

    /** Allocate requests refused while draining: 300 Try Alternate, or 508 without an alternate server. */
    public long allocationsRefusedDraining() {
        return allocationsRefusedDraining;
    }

    /** CreatePermission and ChannelBind requests answered 508: over --max-permissions or --max-channels. */
    public long refusedOverLimit() {
        return refusedOverLimit;
    }

    /** CreatePermission and ChannelBind requests answered 403: the peer policy refused the peer. */
    public long peersRefused() {
        return peersRefused;
    }

    /** Datagrams dropped, all reasons together. */
    public long droppedTotal() {
        long total = 0;
        for (long d : drops) {
            total += d;
        }
        return total;
    }

    /** Packets the core accepted for relaying from clients to peers (payload bytes below). */
    public long packetsClientToPeer() {
        return packetsClientToPeer;
    }

    public long bytesClientToPeer() {
        return bytesClientToPeer;
    }

    public long sameRelayInside() {
        return sameRelayInside;
    }

    public long sameRelayThroughHost() {
        return sameRelayThroughHost;
    }

    public long packetsPeerToClient() {
        return packetsPeerToClient;
    }

    public long bytesPeerToClient() {
        return bytesPeerToClient;
    }
}
