package dev.turnpike.core;

import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.ChannelData;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.TurnAttributes;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The data plane (RFC 8656 §11, §12): ChannelData and Send indications from clients to peers, peers' datagrams
 * back as ChannelData or Data indications, each checked against its allocation, permission, channel, the peer
 * policy and the bandwidth limits. Allocates nothing for IPv4 and ChannelData: it looks up by the objects the loop
 * already holds and writes headers in place in the receive buffer. A peer that is another allocation of this
 * relay is delivered to inside ({@link SameRelay}).
 */
final class DataPlane {
    private RelayConfig config;
    private PeerPolicy policy;
    private final AllocationTable allocations;
    /** The relay's relayed addresses: other allocations, delivered to inside. */
    private final SameRelay sameRelay;

    private final RelayCounters counters;
    /**
     * Where a payload for another allocation here is copied, with room in front and behind for the header that
     * allocation's client gets: written in place in the input's buffer, the header and padding could overwrite a
     * stream's next message.
     */
    private final ByteBuffer inside = ByteBuffer.allocateDirect(Relay.HEADROOM + 65_535 + Relay.TAILROOM);
    /** --total-bps across every allocation, or null for no limit. */
    private TokenBucket totalBandwidth;

    DataPlane(
            RelayConfig config,
            AllocationTable allocations,
            SameRelay sameRelay,
            RelayCounters counters,
            TokenBucket totalBandwidth) {
        this.config = config;
        this.policy = config.policy;
        this.allocations = allocations;
        this.sameRelay = sameRelay;
        this.counters = counters;
        this.totalBandwidth = totalBandwidth;
    }

    TokenBucket totalBandwidth() {
        return totalBandwidth;
    }

    /** A reload: the next datagram meets {@code next}'s policy, and {@code totalBandwidth} (null: no limit). */
    void reconfigure(RelayConfig next, TokenBucket totalBandwidth) {
        this.config = next;
        this.policy = next.policy;
        this.totalBandwidth = totalBandwidth;
    }

    private static boolean live(Permission permission, long nowNs) {
        return permission != null && permission.expiresAtNs - nowNs > 0;
    }

    // RFC 8656 §12.6: ChannelData from the client goes to the channel's peer.
    void onClientChannelData(
            long nowNs, int listener, InetSocketAddress client, ByteBuffer buffer, int offset, int length, Outbox out) {
        int payloadLength = ChannelData.payloadLength(buffer, offset, length);
        if (payloadLength < 0) {
            counters.drop(RelayCounters.Drop.MALFORMED);
            return;
        }
        Allocation allocation = allocations.live(listener, client, nowNs);
        if (allocation == null) {
            counters.drop(RelayCounters.Drop.NO_ALLOCATION);
            return;
        }
        ChannelBinding channel = allocation.channel(ChannelData.channelNumber(buffer, offset));
        if (channel == null || channel.expiresAtNs - nowNs <= 0) {
            counters.drop(RelayCounters.Drop.NO_PERMISSION);
            return;
        }
        if (!live(channel.permission, nowNs)) {
            channel.permission = allocation.permissions.get(channel.peer.getAddress());
            if (!live(channel.permission, nowNs)) {
                counters.drop(RelayCounters.Drop.NO_PERMISSION);
                return;
            }
        }
        // the relay's own relayed address: another allocation while one holds the port (the one bound may since have
        // ended), else whatever else the host runs there, a peer like any other
        Permission permission = channel.permission;
        boolean sameRelayPeer =
                permission.self && sameRelay.isLivePort(permission.ipv6 != null, channel.peer.getPort());
        if (permission.self && !sameRelayPeer && !permission.policyAllows) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            return;
        }
        if (!withinBandwidth(allocation, payloadLength, nowNs)) {
            return;
        }
        counters.packetsClientToPeer++;
        counters.bytesClientToPeer += payloadLength;
        allocation.packetsToPeers++;
        allocation.bytesToPeers += payloadLength;
        if (sameRelayPeer) {
            toSameRelay(
                    nowNs,
                    allocation,
                    permission,
                    channel.peer.getPort(),
                    buffer,
                    offset + ChannelData.HEADER_LENGTH,
                    payloadLength,
                    out);
            return;
        }
        out.forwardToPeer(
                allocation.endpointFor(channel.peer.getAddress()),
                channel.peer,
                offset + ChannelData.HEADER_LENGTH,
                payloadLength);
    }

    // RFC 8656 §11.2: a Send indication's DATA goes to its XOR-PEER-ADDRESS, if permitted. The peer is matched
    // against the permissions in its wire format, so the usual case allocates nothing.
    void onSendIndication(StunMessage request, long nowNs, int listener, InetSocketAddress client, Outbox out) {
        Allocation allocation = allocations.live(listener, client, nowNs);
        if (allocation == null) {
            counters.drop(RelayCounters.Drop.NO_ALLOCATION);
            return;
        }
        if (allocation.tcp) {
            counters.drop(RelayCounters.Drop.NO_PERMISSION); // a TCP allocation relays no datagrams (RFC 6062)
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
            } else if (allocation.endpointFor(peer.getAddress()) == null
                    || !(sameRelay.isLive(peer.getAddress(), peer.getPort()) || policy.permits(peer))) {
                counters.drop(RelayCounters.Drop.PEER_DENIED);
            } else {
                counters.drop(RelayCounters.Drop.NO_PERMISSION);
            }
            return;
        }
        int port = TurnAttributes.xorPort(request.buffer(), value);
        boolean sameRelayPeer = permission.self && sameRelay.isLivePort(permission.ipv6 != null, port);
        if ((permission.self && !sameRelayPeer && !permission.policyAllows)
                || policy.isListener(permission.peer, port)
                || allocation.isOwnRelayedAddress(permission.peer, permission.self, port)) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            return;
        }
        if (!withinBandwidth(allocation, request.valueLength(dataIndex), nowNs)) {
            return;
        }
        counters.packetsClientToPeer++;
        counters.bytesClientToPeer += request.valueLength(dataIndex);
        allocation.packetsToPeers++;
        allocation.bytesToPeers += request.valueLength(dataIndex);
        if (sameRelayPeer) {
            toSameRelay(
                    nowNs,
                    allocation,
                    permission,
                    port,
                    request.buffer(),
                    request.valueOffset(dataIndex),
                    request.valueLength(dataIndex),
                    out);
            return;
        }
        out.forwardToPeer(
                allocation.endpointFor(permission.peer),
                permission.destination(port),
                request.valueOffset(dataIndex),
                request.valueLength(dataIndex));
    }

    /**
     * A payload for another allocation of this relay, at {@code port} of the family of {@code permission}: in this
     * worker, handled as if it had arrived on that allocation's socket from the sender's relayed address as clients
     * know it; in another, sent through the host to that worker's bound address, whose worker maps the source
     * back. Never sent to the public address, which the host itself may not reach. The sender's own relayed
     * address was refused before this.
     */
    private void toSameRelay(
            long nowNs,
            Allocation allocation,
            Permission permission,
            int port,
            ByteBuffer buffer,
            int offset,
            int length,
            Outbox out) {
        boolean ipv6 = permission.ipv6 != null;
        RelayEndpoint from = ipv6 ? allocation.ipv6 : allocation.ipv4;
        RelayEndpoint to = allocations.liveEndpoint(ipv6, port);
        if (to != null) {
            inside.clear();
            inside.put(Relay.HEADROOM, buffer, offset, length);
            out.from(inside);
            onPeerDatagram(nowNs, to, from.advertised(), inside, Relay.HEADROOM, length, out);
            if (out.forward() == Outbox.Forward.TO_CLIENT) {
                counters.sameRelayInside++;
            }
        } else {
            counters.sameRelayThroughHost++;
            out.forwardToPeer(from, permission.bound(sameRelay.local(ipv6), port), offset, length);
        }
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
     * at least {@link Relay#HEADROOM} bytes free in front of it and 3 behind it, where the ChannelData or Data
     * indication header and padding are written in place.
     */
    void onPeerDatagram(
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
        Permission permission;
        ChannelBinding channel;
        if (peer == relay.lastPeer && live(relay.lastPermission, nowNs)) {
            permission = relay.lastPermission;
            channel = relay.lastChannel;
        } else {
            // another worker's allocation comes through the host from its bound address: the permission and the
            // channel are for the address clients know
            InetSocketAddress source =
                    sameRelay.isLive(peer.getAddress(), peer.getPort()) ? sameRelay.asAdvertised(peer) : peer;
            permission = allocation.permissions.get(source.getAddress());
            if (!live(permission, nowNs)) {
                counters.drop(RelayCounters.Drop.NO_PERMISSION);
                return;
            }
            channel = allocation.channelsByPeer.get(source);
            relay.lastPeer = peer;
            relay.lastPermission = permission;
            relay.lastChannel = channel;
        }
        // the relay's own address on a port no allocation holds is whatever else the host runs: the policy's
        if (permission.self
                && !permission.policyAllows
                && !sameRelay.isLivePort(permission.ipv6 != null, peer.getPort())) {
            counters.drop(RelayCounters.Drop.PEER_DENIED);
            return;
        }
        if (!withinBandwidth(allocation, length, nowNs)) {
            return;
        }
        counters.packetsPeerToClient++;
        counters.bytesPeerToClient += length;
        allocation.packetsToClient++;
        allocation.bytesToClient += length;
        if (channel != null && channel.expiresAtNs - nowNs > 0) {
            // RFC 8656 §12.5: over UDP the ChannelData padding is optional, so none is sent.
            int start = offset - ChannelData.HEADER_LENGTH;
            ChannelData.writeHeader(buffer, start, channel.number, length);
            out.forwardToClient(
                    allocation.listener, allocation.client, start, length + ChannelData.HEADER_LENGTH, true);
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
        out.forwardToClient(allocation.listener, allocation.client, start, total, false);
    }
}
