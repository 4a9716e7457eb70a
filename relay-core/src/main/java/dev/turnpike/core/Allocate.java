package dev.turnpike.core;

import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import dev.turnpike.core.stun.TurnAttributes;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * The Allocate request (RFC 8656 §7.2), once authenticated: a retransmission answered again, a drain's refusal,
 * the attributes decoded ({@link AllocateAttributes}), then the rules: the relay's address families, the quotas,
 * the ports (a reservation claimed, an even pair reserved, or one port a family), the lifetime, the response.
 */
final class Allocate {
    private static final long NS_PER_SECOND = 1_000_000_000L;

    private RelayConfig config;
    private final RelaySockets sockets;
    private final AllocationTable allocations;
    private final Responses responses;
    private final RelayCounters counters;
    private final long[] reservationToken = new long[1];
    private final Refused[] refusal = new Refused[1];
    /** Draining: a new Allocate is sent to one of these (300 Try Alternate), or refused with 508 if none fits. */
    private List<InetSocketAddress> alternateServers;

    Allocate(
            RelayConfig config,
            RelaySockets sockets,
            AllocationTable allocations,
            Responses responses,
            RelayCounters counters) {
        this.config = config;
        this.sockets = sockets;
        this.allocations = allocations;
        this.responses = responses;
        this.counters = counters;
    }

    void reconfigure(RelayConfig next) {
        config = next;
    }

    /** From now on, a new allocation is sent to the first of {@code alternateServers} of its family, or refused. */
    void drain(List<InetSocketAddress> alternateServers) {
        this.alternateServers = List.copyOf(alternateServers);
    }

    boolean draining() {
        return alternateServers != null;
    }

    /** Answers success, or returns why not. */
    Refused answer(Transaction t) {
        StunMessage request = t.request;
        Allocation existing = allocations.current(t.listener, t.client, t.nowNs, t.out);
        if (existing != null) {
            if (existing.allocateTxHigh == request.transactionIdHigh()
                    && existing.allocateTxLow == request.transactionIdLow()
                    && existing.allocateResponse != null) {
                // a retransmission
                t.out.add(new Command.SendToClient(t.listener, t.client, existing.allocateResponse, null));
                return null;
            }
            return Refused.with(
                    ErrorCode.ALLOCATION_MISMATCH,
                    "an allocation exists for this 5-tuple (a new transaction, not a retransmission)");
        }
        if (draining()) {
            return refuseDraining(t.client);
        }
        AllocateAttributes asked = AllocateAttributes.decode(
                request, sockets.supportsDontFragment(), config.tcpRelay, config.isStream(t.listener), refusal);
        if (asked == null) {
            return refusal[0];
        }
        boolean wantIpv4 = asked.wantIpv4();
        boolean wantIpv6 = asked.wantIpv6();
        boolean ipv6Unavailable = asked.dual() && config.relayIpv6 == null;
        if (!asked.token()
                && ((wantIpv4 && config.relayIpv4 == null)
                        || (wantIpv6 && !asked.dual() && config.relayIpv6 == null))) {
            return Refused.with(ErrorCode.ADDRESS_FAMILY_NOT_SUPPORTED, "no relay address of the family asked for");
        }
        String account = account(t.who);
        if (!allocations.reserveQuota(account, t.client.getAddress())) {
            counters.allocationsRefusedQuota++;
            return Refused.with(
                    ErrorCode.ALLOCATION_QUOTA_REACHED,
                    "over a quota: --max-allocations, --user-quota or --client-quota (user " + account + ")");
        }
        Allocation allocation = new Allocation(t.listener, t.client, t.who.key(), account);
        allocation.tcp = asked.tcp();
        if (config.maxBps > 0) {
            allocation.bandwidth = TokenBucket.forBitsPerSecond(config.maxBps, t.nowNs);
        }
        Refused noPort = openPorts(t, asked, allocation, ipv6Unavailable);
        if (noPort != null) {
            allocations.unreserve(account, t.client.getAddress());
            counters.allocationsRefusedNoPort++;
            return noPort;
        }
        long lifetime = config.grantedLifetime(asked.lifetimeSeconds());
        allocation.expiresAtNs = t.nowNs + lifetime * NS_PER_SECOND;
        allocations.add(allocation);
        respond(t, allocation, lifetime, ipv6Unavailable, asked.reserveNext());
        return null;
    }

    /**
     * The allocation's relayed addresses: the reserved port a RESERVATION-TOKEN names, an even port with its
     * neighbour reserved (EVEN-PORT with R: one family only, checked before), or a port of each family asked for.
     * Returns why none could be had (508), the quota reservation for the caller to give back.
     */
    private Refused openPorts(Transaction t, AllocateAttributes asked, Allocation allocation, boolean ipv6Unavailable) {
        boolean dontFragment = asked.dontFragment();
        if (asked.token()) {
            // The port was bound when it was reserved; the held socket now serves this allocation.
            RelayEndpoint endpoint = TurnAttributes.hasReservationToken(t.request)
                    ? allocations.claim(
                            TurnAttributes.reservationToken(t.request), allocation, dontFragment, t.nowNs, t.out)
                    : null;
            if (endpoint == null) {
                return Refused.with(ErrorCode.INSUFFICIENT_CAPACITY, "RESERVATION-TOKEN unknown, expired or malformed");
            }
            if (endpoint.local().getAddress() instanceof Inet6Address) {
                allocation.ipv6 = endpoint;
            } else {
                allocation.ipv4 = endpoint;
            }
        } else if (asked.reserveNext()) {
            RelayEndpoint even = allocations.openEvenPairAndReserve(
                    allocation, asked.wantIpv6(), dontFragment, reservationToken, t.nowNs, t.out);
            if (even == null) {
                return Refused.with(
                        ErrorCode.INSUFFICIENT_CAPACITY, "no free even port with a free neighbour in --relay-ports");
            }
            if (asked.wantIpv6()) {
                allocation.ipv6 = even;
            } else {
                allocation.ipv4 = even;
            }
        } else {
            boolean wantIpv4 = asked.wantIpv4();
            boolean wantIpv6 = asked.wantIpv6() && !ipv6Unavailable;
            if (wantIpv4) {
                allocation.ipv4 = allocations.open(allocation, false, asked.even(), dontFragment, asked.tcp());
            }
            if (wantIpv6) {
                allocation.ipv6 = allocations.open(allocation, true, asked.even(), dontFragment, asked.tcp());
            }
            if ((wantIpv4 && allocation.ipv4 == null) || (wantIpv6 && allocation.ipv6 == null)) {
                allocations.releaseEndpoints(allocation, t.out);
                return Refused.with(ErrorCode.INSUFFICIENT_CAPACITY, "no free port in --relay-ports");
            }
        }
        return null;
    }

    /** RFC 8656 §7.2: the relayed addresses, the lifetime, a reservation's token and the client's mapped address. */
    private void respond(
            Transaction t, Allocation allocation, long lifetime, boolean ipv6Unavailable, boolean reserved) {
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
        writer.addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, t.client);
        allocation.createdAtNs = t.nowNs;
        allocation.allocateTxHigh = t.request.transactionIdHigh();
        allocation.allocateTxLow = t.request.transactionIdLow();
        allocation.allocateResponse = responses.finish(t.listener, t.client, t.out);
        t.out.add(allocation.event(Command.AllocationEvent.Kind.CREATED, lifetime, t.nowNs));
    }

    /**
     * Whom the per-user quota counts: the username, or for a time-limited (REST) username "EXPIRY:name[:tag]" the
     * name, so that minting fresh expiries (or tags) does not mint fresh quota.
     */
    private static String account(RequestAuthentication.Authenticated who) {
        return Usernames.account(who.key().username());
    }

    private Refused refuseDraining(InetSocketAddress client) {
        counters.allocationsRefusedDraining++;
        boolean ipv6 = client.getAddress() instanceof Inet6Address;
        for (InetSocketAddress alternate : alternateServers) {
            if ((alternate.getAddress() instanceof Inet6Address) == ipv6) {
                return Refused.tryAlternate(alternate, "draining: try --alternate-server");
            }
        }
        // the reason phrase says so, so that a probe or a person can tell a drain from a full relay-port range
        return Refused.phrased(
                ErrorCode.INSUFFICIENT_CAPACITY,
                ErrorCode.INSUFFICIENT_CAPACITY.reason + " (draining)",
                "draining, and no --alternate-server of the client's family");
    }

    private static byte[] longBytes(long value) {
        byte[] bytes = new byte[8];
        for (int i = 0; i < 8; i++) {
            bytes[i] = (byte) (value >>> (56 - 8 * i));
        }
        return bytes;
    }
}
