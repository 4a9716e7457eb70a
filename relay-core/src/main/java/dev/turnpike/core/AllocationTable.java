package dev.turnpike.core;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The allocations by 5-tuple (listening socket and client), the relay ports they hold (from a pool per family),
 * the odd ports held for EVEN-PORT reservations (RFC 8656 §7.2), the live counts the quotas read, and their
 * expiry. Whatever it releases, it asks the loop to close with a {@link Command.CloseRelay}.
 */
final class AllocationTable {
    private static final long NS_PER_SECOND = 1_000_000_000L;
    /** RFC 8656 §7.2: a reserved even-port neighbour is held for 30 seconds. */
    private static final long RESERVATION_LIFETIME_NS = 30 * NS_PER_SECOND;
    /** RFC 8489 §6.2.1: a client gives up on a transaction after Ti = 39.5 s; keep replies a little longer. */
    private static final long RETRANSMISSION_WINDOW_NS = 45 * NS_PER_SECOND;
    /** Ports tried before 508: another process may hold a port of the range. */
    private static final int OPEN_ATTEMPTS = 16;

    private RelayConfig config;
    private final RelaySockets sockets;
    private final RelayCounters counters;
    private final List<HashMap<InetSocketAddress, Allocation>> byListener = new ArrayList<>();
    private final RelayPortPool ipv4Ports;
    private final RelayPortPool ipv6Ports;
    /** Allocations numbered so far (their ids: {@link #add}). */
    private long allocationsNumbered;
    /** The reservations this table made, by token, for its sweep; one claimed elsewhere is gone from below. */
    private final HashMap<Long, Reservations.Held> reserved = new HashMap<>();
    /** Every reservation claimable here: this table's, and with several workers theirs too. */
    private final Reservations reservations;
    /** What the quotas count: this table's allocations, or those of every worker of the process. */
    private final AllocationQuotas quotas;
    /** The ports live allocations hold: this table's, or with several workers every worker's. */
    private final LiveRelayPorts livePorts;
    /**
     * This table's live relay endpoints by port, per family: where a datagram for another allocation's relayed
     * address is delivered inside ({@link SameRelay}). Arrays, so that the lookup boxes no port.
     */
    private final RelayEndpoint[] liveIpv4 = new RelayEndpoint[65_536];

    private final RelayEndpoint[] liveIpv6 = new RelayEndpoint[65_536];

    private int count;

    AllocationTable(
            RelayConfig config,
            RelaySockets sockets,
            RelayCounters counters,
            AllocationQuotas quotas,
            Reservations reservations,
            LiveRelayPorts livePorts) {
        this.config = config;
        this.livePorts = livePorts;
        this.reservations = reservations;
        this.sockets = sockets;
        this.counters = counters;
        this.quotas = quotas;
        for (int i = 0; i < config.listeners.size(); i++) {
            byListener.add(new HashMap<>());
        }
        // a worker's share of --relay-ports: a peer may still reach any port of the range (another worker's)
        this.ipv4Ports = new RelayPortPool(config.poolLow(), config.poolHigh());
        this.ipv6Ports = new RelayPortPool(config.poolLow(), config.poolHigh());
    }

    int count() {
        return count;
    }

    /** Whether anything here expires: allocations, or reservations. */
    boolean hasExpiries() {
        return count > 0 || !reserved.isEmpty();
    }

    /** The 5-tuple's allocation if it has not expired (data plane: allocates nothing). */
    Allocation live(int listener, InetSocketAddress client, long nowNs) {
        Allocation allocation = byListener.get(listener).get(client);
        return allocation != null && allocation.expiresAtNs - nowNs > 0 ? allocation : null;
    }

    /** The 5-tuple's allocation; one found expired (not swept yet) is deleted first and null answered. */
    Allocation current(int listener, InetSocketAddress client, long nowNs, Outbox out) {
        Allocation allocation = byListener.get(listener).get(client);
        if (allocation != null && allocation.expiresAtNs - nowNs <= 0) {
            byListener.get(allocation.listener).remove(allocation.client);
            release(allocation, Command.AllocationEvent.Kind.EXPIRED, nowNs, out);
            return null;
        }
        return allocation;
    }

    /**
     * Counts one more allocation for {@code account} from {@code clientIp} against the quotas, or answers false if
     * it would pass one (486). What is counted here is given back by {@link #add}'s allocation ending, or by
     * {@link #unreserve} if the allocation is not made after all.
     */
    boolean reserveQuota(String account, InetAddress clientIp) {
        return quotas.take(account, clientIp, config);
    }

    /** A quota counted by {@link #reserveQuota} for an allocation that was not made (no port). */
    void unreserve(String account, InetAddress clientIp) {
        quotas.give(account, clientIp);
    }

    /** An allocation whose quota {@link #reserveQuota} counted. */
    void add(Allocation allocation) {
        // unique across workers: each numbers its own, interleaved by its share of the relay ports
        allocation.id = ++allocationsNumbered * config.portShares + config.portShare;
        byListener.get(allocation.listener).put(allocation.client, allocation);
        for (RelayEndpoint endpoint : new RelayEndpoint[] {allocation.ipv4, allocation.ipv6}) {
            if (endpoint != null) {
                boolean ipv6 = endpoint.local().getAddress() instanceof Inet6Address;
                livePorts.hold(ipv6, endpoint.port());
                (ipv6 ? liveIpv6 : liveIpv4)[endpoint.port()] = endpoint;
            }
        }
        count++;
        counters.allocationsCreated++;
    }

    /** A Refresh with LIFETIME 0 ({@code DELETED}), or the client's connection closed ({@code CLOSED}). */
    void delete(Allocation allocation, Command.AllocationEvent.Kind kind, long nowNs, Outbox out) {
        byListener.get(allocation.listener).remove(allocation.client);
        release(allocation, kind, nowNs, out);
    }

    private void release(Allocation allocation, Command.AllocationEvent.Kind kind, long nowNs, Outbox out) {
        out.add(allocation.event(kind, 0, nowNs));
        allocation.released = true; // datagrams still queued for its sockets are dropped
        releaseEndpoints(allocation, out);
        count--;
        quotas.give(allocation.account, allocation.client.getAddress());
        counters.allocationsDeleted++;
    }

    /**
     * Ends every allocation {@code which} picks, now, as {@code kind} (the operator's doing: ended, or its
     * credentials revoked): its relay sockets close and its client's next request gets 437. Answers how many.
     */
    int end(java.util.function.Predicate<Allocation> which, Command.AllocationEvent.Kind kind, long nowNs, Outbox out) {
        int ended = 0;
        for (HashMap<InetSocketAddress, Allocation> byClient : byListener) {
            Iterator<Allocation> it = byClient.values().iterator();
            while (it.hasNext()) {
                Allocation allocation = it.next();
                if (which.test(allocation)) {
                    it.remove();
                    release(allocation, kind, nowNs, out);
                    ended++;
                }
            }
        }
        return ended;
    }

    /** Every live allocation, copied for other threads (the admin view); control plane: this allocates. */
    List<AllocationSummary> summaries(long nowNs) {
        List<AllocationSummary> all = new ArrayList<>(count);
        for (HashMap<InetSocketAddress, Allocation> byClient : byListener) {
            for (Allocation a : byClient.values()) {
                if (a.expiresAtNs - nowNs <= 0) {
                    continue;
                }
                all.add(new AllocationSummary(
                        a.id,
                        a.credentials.username(),
                        a.client,
                        a.ipv4 == null ? null : a.ipv4.advertised(),
                        a.ipv6 == null ? null : a.ipv6.advertised(),
                        (nowNs - a.createdAtNs) / NS_PER_SECOND,
                        (a.expiresAtNs - nowNs) / NS_PER_SECOND,
                        a.permissionCount,
                        a.channelCount,
                        a.packetsToPeers,
                        a.bytesToPeers,
                        a.packetsToClient,
                        a.bytesToClient));
            }
        }
        return all;
    }

    /**
     * A reload: quotas and limits from {@code next} apply to the next request; a changed --max-bps applies to
     * every allocation at once, and permissions and channels to peers the new policy denies are dropped.
     */
    void reconfigure(RelayConfig next, long nowNs) {
        boolean bandwidthChanged = next.maxBps != config.maxBps;
        config = next;
        for (HashMap<InetSocketAddress, Allocation> byClient : byListener) {
            for (Allocation allocation : byClient.values()) {
                if (bandwidthChanged) {
                    allocation.bandwidth = next.maxBps == 0 ? null : TokenBucket.forBitsPerSecond(next.maxBps, nowNs);
                }
                allocation.drop(nowNs, next.policy);
            }
        }
    }

    /** Expires what is due: allocations (their relay sockets closed), permissions, channels, reservations. */
    void sweep(long nowNs, Outbox out) {
        for (HashMap<InetSocketAddress, Allocation> byClient : byListener) {
            Iterator<Allocation> it = byClient.values().iterator();
            while (it.hasNext()) {
                Allocation allocation = it.next();
                if (allocation.expiresAtNs - nowNs <= 0) {
                    it.remove();
                    release(allocation, Command.AllocationEvent.Kind.EXPIRED, nowNs, out);
                } else {
                    allocation.sweep(nowNs);
                    if (allocation.allocateResponse != null
                            && nowNs - allocation.createdAtNs > RETRANSMISSION_WINDOW_NS) {
                        allocation.allocateResponse = null; // no retransmission of the Allocate can come any more
                    }
                }
            }
        }
        Iterator<Map.Entry<Long, Reservations.Held>> own = reserved.entrySet().iterator();
        while (own.hasNext()) {
            Map.Entry<Long, Reservations.Held> entry = own.next();
            Reservations.Held held = entry.getValue();
            if (held.expiresAtNs() - nowNs <= 0) {
                own.remove();
                if (reservations.takeIfUnclaimed(entry.getKey(), held)) {
                    unhold(held, out);
                } else {
                    // another worker claimed it, and has its socket: the port comes back to the pool, and should
                    // that allocation still hold it, binding it fails and the pool offers another
                    pool(held.ipv6()).release(held.endpoint().port());
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Relay ports

    /** A bound relay port from the pool (an even one if asked), or null after a few ports proved taken. */
    RelayEndpoint open(Allocation allocation, boolean ipv6, boolean even, boolean dontFragment, boolean tcp) {
        RelayPortPool pool = pool(ipv6);
        for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
            int port = pool.acquire(config.random, even, false);
            if (port < 0) {
                return null;
            }
            RelayEndpoint endpoint = endpoint(ipv6, port, allocation, dontFragment, tcp);
            if (sockets.open(endpoint)) {
                return endpoint;
            }
            pool.release(port); // taken by another process; try another
        }
        return null;
    }

    /**
     * EVEN-PORT with the R bit (RFC 8656 §7.2): an even port for {@code allocation}, and the next one up bound
     * now and held by no allocation for 30 s until a RESERVATION-TOKEN claims it, so that no other process can
     * take it meanwhile. Answers the even endpoint and the token, or null after a few pairs proved taken.
     */
    RelayEndpoint openEvenPairAndReserve(
            Allocation allocation, boolean ipv6, boolean dontFragment, long[] token, long nowNs, Outbox out) {
        RelayPortPool pool = pool(ipv6);
        for (int attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
            int port = pool.acquire(config.random, true, true);
            if (port < 0) {
                return null;
            }
            pool.take(port + 1);
            RelayEndpoint even = endpoint(ipv6, port, allocation, dontFragment, false);
            RelayEndpoint held = endpoint(ipv6, port + 1, null, false, false);
            if (sockets.open(even)) {
                if (sockets.open(held)) {
                    token[0] = config.random.nextLong();
                    Reservations.Held reservation =
                            new Reservations.Held(held, ipv6, nowNs + RESERVATION_LIFETIME_NS, this);
                    reserved.put(token[0], reservation);
                    reservations.put(token[0], reservation);
                    return even;
                }
                out.add(new Command.CloseRelay(even));
            }
            pool.release(port); // either port taken by another process; try another pair
            pool.release(port + 1);
        }
        return null;
    }

    /**
     * The port a RESERVATION-TOKEN names, handed to {@code allocation}: its socket was bound when it was reserved
     * (by this table or, with several workers, another's) and now serves the allocation. Null (and the port given
     * up) if unknown, expired, or the loop cannot.
     */
    RelayEndpoint claim(long token, Allocation allocation, boolean dontFragment, long nowNs, Outbox out) {
        Reservations.Held held = reservations.take(token);
        if (held == null) {
            return null;
        }
        boolean own = reserved.remove(token) != null;
        RelayEndpoint endpoint =
                new RelayEndpoint(held.endpoint().local(), held.endpoint().advertised(), allocation, dontFragment);
        if (held.expiresAtNs() - nowNs > 0 && sockets.adopt(held.endpoint(), endpoint)) {
            return endpoint;
        }
        // expired, or not adoptable: its socket closes here; the port returns to its own table's pool, at once if
        // that is this one, else at that table's sweep
        out.add(new Command.CloseRelay(held.endpoint()));
        if (own) {
            pool(held.ipv6()).release(held.endpoint().port());
        }
        return null;
    }

    private void unhold(Reservations.Held held, Outbox out) {
        out.add(new Command.CloseRelay(held.endpoint()));
        pool(held.ipv6()).release(held.endpoint().port());
    }

    /** Gives up an allocation's relay ports (the loop closes their sockets). */
    void releaseEndpoints(Allocation allocation, Outbox out) {
        for (RelayEndpoint endpoint : new RelayEndpoint[] {allocation.ipv4, allocation.ipv6}) {
            if (endpoint != null) {
                boolean ipv6 = endpoint.local().getAddress() instanceof Inet6Address;
                out.add(new Command.CloseRelay(endpoint));
                livePorts.release(ipv6, endpoint.port());
                RelayEndpoint[] live = ipv6 ? liveIpv6 : liveIpv4;
                if (live[endpoint.port()] == endpoint) {
                    live[endpoint.port()] = null;
                }
                pool(ipv6).release(endpoint.port());
            }
        }
    }

    /** The relay endpoint a live allocation of this table holds at {@code port}, or null (none, or another worker's). */
    RelayEndpoint liveEndpoint(boolean ipv6, int port) {
        return port >= 0 && port < 65_536 ? (ipv6 ? liveIpv6 : liveIpv4)[port] : null;
    }

    private RelayEndpoint endpoint(boolean ipv6, int port, Allocation allocation, boolean dontFragment, boolean tcp) {
        InetSocketAddress local = new InetSocketAddress(ipv6 ? config.relayIpv6 : config.relayIpv4, port);
        InetAddress advertised = ipv6 ? config.publicIpv6 : config.publicIpv4;
        return new RelayEndpoint(
                local,
                advertised != null ? new InetSocketAddress(advertised, port) : local,
                allocation,
                dontFragment,
                tcp);
    }

    private RelayPortPool pool(boolean ipv6) {
        return ipv6 ? ipv6Ports : ipv4Ports;
    }
}
