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

    private final long[] drops = new long[Drop.values().length];
    long bindingRequests;
    long stunRequests;
    long indicationsIgnored;
    long errorResponses;
    long allocationsCreated;
    long allocationsDeleted;
    long allocationsRefusedNoPort;
    long allocationsRefusedQuota;
    long refusedOverLimit;
    long peersRefused;
    long packetsClientToPeer;
    long bytesClientToPeer;
    long packetsPeerToClient;
    long bytesPeerToClient;

    /** A copy, for the loop to publish to other threads (the metrics endpoint). */
    public RelayCounters copy() {
        RelayCounters c = new RelayCounters();
        System.arraycopy(drops, 0, c.drops, 0, drops.length);
        c.bindingRequests = bindingRequests;
        c.stunRequests = stunRequests;
        c.indicationsIgnored = indicationsIgnored;
        c.errorResponses = errorResponses;
        c.allocationsCreated = allocationsCreated;
        c.allocationsDeleted = allocationsDeleted;
        c.allocationsRefusedNoPort = allocationsRefusedNoPort;
        c.allocationsRefusedQuota = allocationsRefusedQuota;
        c.refusedOverLimit = refusedOverLimit;
        c.peersRefused = peersRefused;
        c.packetsClientToPeer = packetsClientToPeer;
        c.bytesClientToPeer = bytesClientToPeer;
        c.packetsPeerToClient = packetsPeerToClient;
        c.bytesPeerToClient = bytesPeerToClient;
        return c;
    }

    /** Allocations now live: created and not yet deleted or expired. */
    public long allocationsLive() {
        return allocationsCreated - allocationsDeleted;
    }

    public void drop(Drop reason) {
        drops[reason.ordinal()]++;
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

    public long packetsPeerToClient() {
        return packetsPeerToClient;
    }

    public long bytesPeerToClient() {
        return bytesPeerToClient;
    }
}
