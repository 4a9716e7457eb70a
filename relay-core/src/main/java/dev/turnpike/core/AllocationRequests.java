package dev.turnpike.core;

import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.ChannelData;
import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.TurnAttributes;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * The requests on an allocation the client holds, once authenticated: Refresh (RFC 8656 §7.3), CreatePermission
 * (§9) and ChannelBind (§11, §12). Each first finds the caller's allocation (437 if none, 441 if another user's),
 * and the last two judge their peers alike: the relay's own relayed addresses are other allocations, anything
 * else meets the peer policy. Each answers success, or returns why not.
 */
final class AllocationRequests {
    private static final long NS_PER_SECOND = 1_000_000_000L;

    private RelayConfig config;
    private final AllocationTable allocations;
    private final SameRelay sameRelay;
    private final Responses responses;
    private final RelayCounters counters;
    private final TcpRelaying tcp;

    AllocationRequests(
            RelayConfig config,
            AllocationTable allocations,
            SameRelay sameRelay,
            Responses responses,
            RelayCounters counters,
            TcpRelaying tcp) {
        this.tcp = tcp;
        this.config = config;
        this.allocations = allocations;
        this.sameRelay = sameRelay;
        this.responses = responses;
        this.counters = counters;
    }

    void reconfigure(RelayConfig next) {
        config = next;
    }

    /**
     * Answers {@code t}, a Refresh, CreatePermission, ChannelBind or Connect ({@code method}), on the caller's allocation;
     * returns why not.
     */
    Refused answer(int method, Transaction t) {
        Allocation allocation = allocations.current(t.listener, t.client, t.nowNs, t.out);
        Refused notOwned = notOwned(allocation, t);
        if (notOwned != null) {
            return notOwned;
        }
        return switch (method) {
            case StunMethod.REFRESH -> refresh(t, allocation);
            case StunMethod.CREATE_PERMISSION -> createPermission(t, allocation);
            case StunMethod.CHANNEL_BIND -> channelBind(t, allocation);
            case StunMethod.CONNECT -> tcp.connect(t, allocation);
            default -> throw new IllegalArgumentException("not a request on an allocation: " + method);
        };
    }

    /** Why the caller cannot act on {@code allocation}: 437 (none for its 5-tuple), 441 (another user's), or null. */
    private static Refused notOwned(Allocation allocation, Transaction t) {
        if (allocation == null) {
            return Refused.with(ErrorCode.ALLOCATION_MISMATCH, "no allocation for this 5-tuple");
        }
        if (!allocation.credentials.username().equals(t.who.key().username())) {
            return Refused.with(ErrorCode.WRONG_CREDENTIALS, "the allocation belongs to another user");
        }
        return null;
    }

    private Refused refresh(Transaction t, Allocation allocation) {
        StunMessage request = t.request;
        int family = request.firstByte(StunAttribute.REQUESTED_ADDRESS_FAMILY);
        if ((family == TurnAttributes.FAMILY_IPV4 && allocation.ipv4 == null)
                || (family == TurnAttributes.FAMILY_IPV6 && allocation.ipv6 == null)) {
            return Refused.with(
                    ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH, "the allocation has no relayed address of that family");
        }
        // RFC 8656 §7.3: zero deletes; otherwise at most the maximum and at least the default, as for Allocate
        long requested = request.u32Value(StunAttribute.LIFETIME, RelayConfig.DEFAULT_LIFETIME_SECONDS);
        long lifetime = requested == 0 ? 0 : config.grantedLifetime(requested);
        if (lifetime == 0) {
            allocations.delete(allocation, Command.AllocationEvent.Kind.DELETED, t.nowNs, t.out);
        } else {
            allocation.expiresAtNs = t.nowNs + lifetime * NS_PER_SECOND;
            t.out.add(allocation.event(Command.AllocationEvent.Kind.REFRESHED, lifetime, t.nowNs));
        }
        responses.begin(StunMethod.CLASS_SUCCESS).addU32(StunAttribute.LIFETIME, lifetime);
        responses.finish(t.listener, t.client, t.out);
        return null;
    }

    private Refused createPermission(Transaction t, Allocation allocation) {
        StunMessage request = t.request;
        int first = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        if (first < 0) {
            return Refused.with(ErrorCode.BAD_REQUEST, "no XOR-PEER-ADDRESS");
        }
        // All or nothing (RFC 8656 §9.2): check every peer before installing any.
        for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            InetSocketAddress peer = request.xorAddress(i);
            ErrorCode refusal = peer == null ? ErrorCode.BAD_REQUEST : refusePeerIp(allocation, peer.getAddress());
            if (refusal != null) {
                return Refused.with(
                        refusal,
                        peer == null
                                ? "a malformed XOR-PEER-ADDRESS"
                                : "peer " + peer.getAddress().getHostAddress() + " refused (" + refusal.code + ")");
            }
        }
        if (config.maxPermissions > 0) {
            allocation.sweep(t.nowNs); // expired permissions no longer count
            int added = 0;
            for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
                InetAddress peer = request.xorAddress(i).getAddress();
                if (!allocation.permissions.containsKey(peer) && !repeated(request, peer, first, i)) {
                    added++;
                }
            }
            if (allocation.permissionCount + added > config.maxPermissions) {
                // RFC 8656 §9.2: 508 when it cannot install them
                return overLimit("over --max-permissions " + config.maxPermissions);
            }
        }
        for (int i = first; i >= 0; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            installPermission(allocation, request.xorAddress(i).getAddress(), t.nowNs);
        }
        responses.success(t.listener, t.client, t.out);
        return null;
    }

    private Refused channelBind(Transaction t, Allocation allocation) {
        if (allocation.tcp) {
            return Refused.with(ErrorCode.BAD_REQUEST, "ChannelBind on a TCP allocation (RFC 6062 §5.1)");
        }
        StunMessage request = t.request;
        int maxChannel = config.rfc5766ChannelNumbers ? ChannelData.MAX_CHANNEL_RFC5766 : ChannelData.MAX_CHANNEL;
        int number = TurnAttributes.channelNumber(request);
        int peerIndex = request.indexOf(StunAttribute.XOR_PEER_ADDRESS);
        InetSocketAddress peer = peerIndex < 0 ? null : request.xorAddress(peerIndex);
        if (number < ChannelData.MIN_CHANNEL || number > maxChannel || peer == null) {
            return Refused.with(
                    ErrorCode.BAD_REQUEST,
                    "channel number 0x" + Integer.toHexString(number)
                            + " or XOR-PEER-ADDRESS invalid (expected: 0x4000-0x" + Integer.toHexString(maxChannel)
                            + (config.rfc5766ChannelNumbers ? "" : "; legacy clients need --rfc5766-channel-numbers")
                            + ")");
        }
        ErrorCode refusal = refusePeerIp(allocation, peer.getAddress());
        // another allocation here is delivered to inside, its own relayed address never; anything else is a peer
        if (refusal == null
                && (sameRelay.isLive(peer.getAddress(), peer.getPort())
                        ? allocation.isOwnRelayedAddress(peer.getAddress(), true, peer.getPort())
                        : !config.policy.permits(peer))) {
            counters.peersRefused++;
            refusal = ErrorCode.FORBIDDEN;
        }
        if (refusal != null) {
            return Refused.with(refusal, "peer " + peer + " refused (" + refusal.code + ")");
        }
        allocation.sweep(t.nowNs); // an expired binding no longer holds its number or peer
        ChannelBinding byNumber = allocation.channel(number);
        ChannelBinding byPeer = allocation.channelsByPeer.get(peer);
        // RFC 8656 §12.2: a number stands for one peer and a peer has one number, for the binding's life.
        if ((byNumber != null && !byNumber.peer.equals(peer)) || (byPeer != null && byPeer.number != number)) {
            return Refused.with(
                    ErrorCode.BAD_REQUEST,
                    "channel 0x" + Integer.toHexString(number) + " or peer " + peer + " already bound to another");
        }
        if ((byNumber == null && config.maxChannels > 0 && allocation.channelCount >= config.maxChannels)
                || (config.maxPermissions > 0
                        && !allocation.permissions.containsKey(peer.getAddress())
                        && allocation.permissionCount >= config.maxPermissions)) {
            return overLimit("over --max-channels or --max-permissions");
        }
        if (byNumber == null) {
            allocation.addChannel(new ChannelBinding(number, peer, t.nowNs + ChannelBinding.LIFETIME_NS));
        } else {
            byNumber.expiresAtNs = t.nowNs + ChannelBinding.LIFETIME_NS;
        }
        installPermission(allocation, peer.getAddress(), t.nowNs);
        responses.success(t.listener, t.client, t.out);
        return null;
    }

    /** Whether an XOR-PEER-ADDRESS before {@code index} (from {@code first}) names {@code peer} too. */
    private static boolean repeated(StunMessage request, InetAddress peer, int first, int index) {
        for (int i = first; i >= 0 && i < index; i = request.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1)) {
            if (peer.equals(request.xorAddress(i).getAddress())) {
                return true;
            }
        }
        return false;
    }

    private Refused overLimit(String why) {
        counters.refusedOverLimit++;
        return Refused.with(ErrorCode.INSUFFICIENT_CAPACITY, why);
    }

    /** 443 when the allocation has no relay address of the peer's family, 403 when policy refuses it. */
    private ErrorCode refusePeerIp(Allocation allocation, InetAddress peer) {
        if (allocation.endpointFor(peer) == null) {
            return ErrorCode.PEER_ADDRESS_FAMILY_MISMATCH;
        }
        if (!sameRelay.names(peer) && config.policy.judge(peer) == PeerPolicy.Verdict.DENIED) {
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
                    config.policy.judge(peer) == PeerPolicy.Verdict.ALLOWED,
                    nowNs + Permission.LIFETIME_NS));
        } else {
            permission.expiresAtNs = nowNs + Permission.LIFETIME_NS;
        }
    }
}
