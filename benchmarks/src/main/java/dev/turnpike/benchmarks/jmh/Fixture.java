package dev.turnpike.benchmarks.jmh;

import dev.turnpike.core.Command;
import dev.turnpike.core.Outbox;
import dev.turnpike.core.Relay;
import dev.turnpike.core.RelayConfig;
import dev.turnpike.core.RelayEndpoint;
import dev.turnpike.core.RelaySockets;
import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A relay core with one allocation, a channel to one peer and a permission for a second peer, set up through
 * the real request path (401, signed Allocate, ChannelBind, CreatePermission), for the data-plane benchmarks.
 */
final class Fixture {
    static final String REALM = "example.org";
    static final byte[] KEY = LongTermKey.md5("alice", REALM, "wonderland");
    static final int CHANNEL = 0x4001;
    static final int HEADROOM = Relay.HEADROOM;

    final InetSocketAddress listener = address("192.0.2.1", 3478);
    final InetSocketAddress client = address("198.51.100.7", 40000);
    /** Bound to the channel. */
    final InetSocketAddress channelPeer = address("8.8.8.8", 5000);
    /** Permitted, no channel: its traffic travels in Send and Data indications. */
    final InetSocketAddress indicationPeer = address("1.1.1.1", 6000);

    final List<RelayEndpoint> opened = new ArrayList<>();
    final Relay relay;
    final Outbox out = new Outbox();
    final long nowNs = 1_000_000_000_000L;
    final long epochSeconds = 1_800_000_000L;
    private final MessageIntegrity integrity = new MessageIntegrity();
    private long tx = 1;

    Fixture() {
        this(1);
    }

    /**
     * With {@code allocations} allocations, each from a client address of its own with a channel to the same peer
     * (the first as above, with a permission for a second peer too), for the timer benchmark.
     */
    Fixture(int allocations) {
        RelaySockets sockets = new RelaySockets() {
            @Override
            public boolean open(RelayEndpoint endpoint) {
                opened.add(endpoint);
                return true;
            }

            @Override
            public boolean adopt(RelayEndpoint held, RelayEndpoint endpoint) {
                opened.add(endpoint);
                return true;
            }

            @Override
            public boolean supportsDontFragment() {
                return true;
            }
        };
        relay = new Relay(
                RelayConfig.builder(List.of(listener))
                        .credentials(new Credentials(REALM, Map.of("alice", "wonderland"), List.of()))
                        .relayIpv4(listener.getAddress(), null)
                        .relayPorts(1024, 65535)
                        .quotas(0, 0, 0)
                        .challengeRate(0, 1)
                        .policy(new PeerPolicy(List.of(), List.of(), Set.of(listener.getAddress()), Set.of(listener)))
                        // the per-allocation bandwidth check on every packet, as by default, with a budget
                        // this loop never exhausts: measure the forwarding path, not the drop path
                        .bandwidth(RelayConfig.MAX_BPS, 0)
                        .build(),
                sockets);
        String nonce = request(
                        StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17), null)
                .string(StunAttribute.NONCE);
        expectSuccess(
                request(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17), nonce));
        expectSuccess(request(
                StunMethod.CHANNEL_BIND,
                w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) CHANNEL) << 16)
                        .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, channelPeer),
                nonce));
        expectSuccess(request(
                StunMethod.CREATE_PERMISSION,
                w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, indicationPeer),
                nonce));
        for (int i = 1; i < allocations; i++) {
            InetSocketAddress other = address("10." + (i >>> 16) + "." + ((i >>> 8) & 255) + "." + (i & 255), 40000);
            String otherNonce = request(
                            other,
                            StunMethod.ALLOCATE,
                            w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17),
                            null)
                    .string(StunAttribute.NONCE);
            expectSuccess(request(
                    other,
                    StunMethod.ALLOCATE,
                    w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                            .addU32(StunAttribute.LIFETIME, 3600),
                    otherNonce));
            expectSuccess(request(
                    other,
                    StunMethod.CHANNEL_BIND,
                    w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) CHANNEL) << 16)
                            .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, channelPeer),
                    otherNonce));
        }
    }

    RelayEndpoint endpoint() {
        return opened.get(0);
    }

    /** A direct buffer holding {@code datagram} after {@link #HEADROOM} bytes, with room behind it. */
    static ByteBuffer received(byte[] datagram) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(HEADROOM + datagram.length + 8);
        buffer.put(HEADROOM, datagram);
        return buffer;
    }

    byte[] channelData(int payloadLength) {
        byte[] bytes = new byte[4 + payloadLength];
        bytes[0] = (byte) (CHANNEL >>> 8);
        bytes[1] = (byte) CHANNEL;
        bytes[2] = (byte) (payloadLength >>> 8);
        bytes[3] = (byte) payloadLength;
        return bytes;
    }

    byte[] sendIndication(int payloadLength) {
        return message(
                StunMethod.SEND,
                StunMethod.CLASS_INDICATION,
                w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, indicationPeer)
                        .addBytes(StunAttribute.DATA, new byte[payloadLength]),
                null);
    }

    byte[] allocateRequest(String nonce) {
        return message(
                StunMethod.ALLOCATE,
                StunMethod.CLASS_REQUEST,
                w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17).addU32(StunAttribute.LIFETIME, 600),
                nonce);
    }

    private byte[] message(int method, int messageClass, Consumer<StunWriter> attributes, String nonce) {
        StunWriter writer = new StunWriter(integrity);
        writer.begin(ByteBuffer.allocate(2048), 0, StunMethod.messageType(method, messageClass), tx++, 7);
        attributes.accept(writer);
        if (nonce != null) {
            writer.addString(StunAttribute.USERNAME, "alice")
                    .addString(StunAttribute.REALM, REALM)
                    .addString(StunAttribute.NONCE, nonce)
                    .addMessageIntegrity(KEY);
        }
        return writer.toBytes();
    }

    private StunMessage request(int method, Consumer<StunWriter> attributes, String nonce) {
        return request(client, method, attributes, nonce);
    }

    private StunMessage request(InetSocketAddress from, int method, Consumer<StunWriter> attributes, String nonce) {
        byte[] bytes = message(method, StunMethod.CLASS_REQUEST, attributes, nonce);
        out.clear();
        relay.onClientDatagram(nowNs, epochSeconds, 0, from, ByteBuffer.wrap(bytes), 0, bytes.length, out);
        Command.SendToClient response = (Command.SendToClient) out.poll();
        StunMessage message = new StunMessage();
        if (message.wrap(ByteBuffer.wrap(response.bytes()), 0, response.bytes().length) != DecodeStatus.OK) {
            throw new IllegalStateException("bad response");
        }
        return message;
    }

    private static void expectSuccess(StunMessage response) {
        if (response.errorCode() >= 0) {
            throw new IllegalStateException("fixture set-up failed with error " + response.errorCode());
        }
    }

    private static InetSocketAddress address(String ip, int port) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
