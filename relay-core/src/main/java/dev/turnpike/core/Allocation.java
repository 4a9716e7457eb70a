package dev.turnpike.core;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.TurnAttributes;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;

/**
 * RFC 8656 §5: the relay transport address(es) one client 5-tuple holds, with its permissions and channels.
 * Lookups on the data path are by the objects the JDK already gave us (no boxing, no new keys).
 */
final class Allocation {
    final int listener;
    final InetSocketAddress client;
    final Credentials.Key credentials;
    /** Whom the per-user quota counts this allocation against. */
    final String account;
    /** --max-bps for this allocation, or null for no limit. */
    TokenBucket bandwidth;

    RelayEndpoint ipv4;
    RelayEndpoint ipv6;
    long expiresAtNs;
    /** Deleted or expired and swept: its relay sockets are closing. */
    boolean released;
    /** RFC 6062: a TCP allocation, whose relayed address is a listening socket and which carries no datagrams. */
    boolean tcp;
    /** A TCP allocation's connections to peers, by peer (one each: RFC 6062 §5.2's 446), opening or open. */
    final HashMap<InetSocketAddress, TcpConnection> connections = new HashMap<>(2);

    final HashMap<InetAddress, Permission> permissions = new HashMap<>(4);
    /** The same permissions in an array, for matching a peer address still in the wire format (Send). */
    Permission[] permissionList = new Permission[2];

    int permissionCount;
    final HashMap<InetSocketAddress, ChannelBinding> channelsByPeer = new HashMap<>(4);
    /** By number: few per allocation, so a short array scanned beats a map of boxed keys. */
    ChannelBinding[] channels = new ChannelBinding[2];

    int channelCount;
    long createdAtNs;
    /** Unique among the allocations of every worker of this process, never reused while it runs: the admin's handle. */
    long id;
    /** What it moved, for its lifecycle log lines. */
    long packetsToPeers;

    long bytesToPeers;
    long packetsToClient;
    long bytesToClient;
    /** The Allocate transaction and its success response, resent as-is for a retransmission (first 45 s). */
    long allocateTxHigh;

    int allocateTxLow;
    byte[] allocateResponse;

    Allocation(int listener, InetSocketAddress client, Credentials.Key credentials, String account) {
        this.listener = listener;
        this.client = client;
        this.credentials = credentials;
        this.account = account;
    }

    RelayEndpoint endpointFor(InetAddress peer) {
        return peer instanceof Inet4Address ? ipv4 : ipv6;
    }

    /** A log-worthy moment of this allocation, for the loop to write down. */
    Command.AllocationEvent event(Command.AllocationEvent.Kind kind, long lifetimeSeconds, long nowNs) {
        return new Command.AllocationEvent(
                kind,
                credentials.username(),
                client,
                ipv4 == null ? null : ipv4.advertised(),
                ipv6 == null ? null : ipv6.advertised(),
                lifetimeSeconds,
                (nowNs - createdAtNs) / 1_000_000_000L,
                packetsToPeers,
                bytesToPeers,
                packetsToClient,
                bytesToClient);
    }

    /**
     * Whether {@code peerIp}:{@code port} is this allocation's own relayed transport address: relaying to it would
     * echo every packet back into the allocation. A peer IP of the relay's own ({@code self}) on the allocation's
     * relay port is it, whichever of the relay's addresses (bound or advertised) names it.
     */
    boolean isOwnRelayedAddress(InetAddress peerIp, boolean self, int port) {
        RelayEndpoint endpoint = endpointFor(peerIp);
        return self && endpoint != null && endpoint.port() == port;
    }

    void addPermission(Permission permission) {
        if (permissionCount == permissionList.length) {
            permissionList = java.util.Arrays.copyOf(permissionList, permissionCount * 2);
        }
        permissionList[permissionCount++] = permission;
        permissions.put(permission.peer, permission);
    }

    /**
     * The permission for the peer in an XOR-PEER-ADDRESS value at {@code value} of {@code length} bytes,
     * un-XORed in place of reading (RFC 8489 §14.2), or null. Allocates nothing.
     */
    Permission permission(java.nio.ByteBuffer buffer, int value, int length, int messageStart) {
        int family = buffer.get(value + 1);
        if (family == TurnAttributes.FAMILY_IPV4 && length == 8) {
            int ip = buffer.getInt(value + 4) ^ dev.turnpike.core.stun.StunMessage.MAGIC_COOKIE;
            for (int i = 0; i < permissionCount; i++) {
                Permission p = permissionList[i];
                if (p.ipv6 == null && p.ipv4 == ip) {
                    return p;
                }
            }
        } else if (family == TurnAttributes.FAMILY_IPV6 && length == 20) {
            next:
            for (int i = 0; i < permissionCount; i++) {
                Permission p = permissionList[i];
                if (p.ipv6 == null) {
                    continue;
                }
                for (int b = 0; b < 16; b++) {
                    if ((byte) (buffer.get(value + 4 + b) ^ buffer.get(messageStart + 4 + b)) != p.ipv6[b]) {
                        continue next;
                    }
                }
                return p;
            }
        }
        return null;
    }

    ChannelBinding channel(int number) {
        for (int i = 0; i < channelCount; i++) {
            if (channels[i].number == number) {
                return channels[i];
            }
        }
        return null;
    }

    void addChannel(ChannelBinding binding) {
        if (channelCount == channels.length) {
            channels = java.util.Arrays.copyOf(channels, channelCount * 2);
        }
        channels[channelCount++] = binding;
        channelsByPeer.put(binding.peer, binding);
        forgetLastPeer(); // it may have been remembered as having no channel
    }

    private void forgetLastPeer() {
        if (ipv4 != null) {
            ipv4.lastPeer = null;
        }
        if (ipv6 != null) {
            ipv6.lastPeer = null;
        }
    }

    /** Drops expired permissions and channels. */
    void sweep(long nowNs) {
        drop(nowNs, null);
    }

    /**
     * Drops expired permissions and channels and, given a policy (a reload), those to peers it now denies: a
     * range the operator has just closed is closed for calls already running too. A permission for the relay's
     * own relayed addresses stays (other allocations are no policy's business); what the policy says of it is
     * updated, for its ports that no allocation holds.
     */
    void drop(long nowNs, PeerPolicy refusing) {
        int keptPermissions = 0;
        for (int i = 0; i < permissionCount; i++) {
            Permission p = permissionList[i];
            if (p.expiresAtNs - nowNs <= 0 || (!p.self && denies(refusing, p.peer))) {
                permissions.remove(p.peer);
                p.expiresAtNs = nowNs; // dead for any reference kept to it (ChannelBinding, RelayEndpoint)
            } else {
                if (refusing != null) {
                    p.policyAllows = !denies(refusing, p.peer);
                }
                permissionList[keptPermissions++] = p;
            }
        }
        for (int i = keptPermissions; i < permissionCount; i++) {
            permissionList[i] = null;
        }
        permissionCount = keptPermissions;
        int kept = 0;
        for (int i = 0; i < channelCount; i++) {
            ChannelBinding c = channels[i];
            Permission p = permissions.get(c.peer.getAddress());
            if (c.expiresAtNs - nowNs <= 0 || (!(p != null && p.self) && denies(refusing, c.peer.getAddress()))) {
                channelsByPeer.remove(c.peer);
                c.expiresAtNs = nowNs; // dead for any reference kept to it (RelayEndpoint)
            } else {
                channels[kept++] = c;
            }
        }
        for (int i = kept; i < channelCount; i++) {
            channels[i] = null;
        }
        channelCount = kept;
    }

    private static boolean denies(PeerPolicy policy, InetAddress peer) {
        return policy != null && policy.judge(peer) == PeerPolicy.Verdict.DENIED;
    }
}
