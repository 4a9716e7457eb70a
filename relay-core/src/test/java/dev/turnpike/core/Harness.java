package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.policy.Cidr;
import dev.turnpike.core.policy.PeerPolicy;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * A transcript harness over the sans-IO core: a fake clock advanced by hand, fake relay sockets that record
 * what the core opened and closed, and helpers that speak as a client and as a peer.
 */
final class Harness {
    static final String REALM = "example.org";
    static final String USER = "alice";
    static final String PASSWORD = "wonderland";
    static final String SECRET = "s3cret";
    static final byte[] KEY = LongTermKey.md5(USER, REALM, PASSWORD);
    static final InetSocketAddress LISTENER = new InetSocketAddress(ip("192.0.2.1"), 3478);
    static final InetAddress RELAY_IPV4 = ip("192.0.2.1");
    static final InetAddress RELAY_IPV6 = ip("2001:db8::1");
    static final InetSocketAddress CLIENT = new InetSocketAddress(ip("198.51.100.7"), 40000);
    static final InetSocketAddress CLIENT2 = new InetSocketAddress(ip("198.51.100.8"), 40000);
    static final InetSocketAddress PEER = new InetSocketAddress(ip("8.8.8.8"), 5000);
    static final InetSocketAddress PEER2 = new InetSocketAddress(ip("1.1.1.1"), 6000);
    static final InetSocketAddress PEER6 = new InetSocketAddress(ip("2606:4700::1111"), 7000);

    /** Relay sockets that open unless the port was marked taken; a claimed reservation is adopted in place. */
    static final class FakeSockets implements RelaySockets {
        final List<RelayEndpoint> opened = new ArrayList<>();
        final List<RelayEndpoint> adopted = new ArrayList<>();
        final Set<Integer> taken = new HashSet<>();
        boolean dontFragment = true;
        boolean adoptFails;

        @Override
        public boolean open(RelayEndpoint endpoint) {
            if (taken.contains(endpoint.port())) {
                return false;
            }
            opened.add(endpoint);
            return true;
        }

        @Override
        public boolean adopt(RelayEndpoint held, RelayEndpoint endpoint) {
            assertThat(opened).as("only an opened socket can be adopted").contains(held);
            assertThat(endpoint.local()).isEqualTo(held.local());
            if (adoptFails) {
                return false;
            }
            adopted.add(endpoint);
            return true;
        }

        @Override
        public boolean supportsDontFragment() {
            return dontFragment;
        }
    }

    final FakeSockets sockets;
    final Relay relay;
    final Outbox out = new Outbox();
    final List<RelayEndpoint> closed = new ArrayList<>();
    /** The allocation lifecycle events the core reported, in order. */
    final List<Command.AllocationEvent> events = new ArrayList<>();

    long nowNs = 1_000_000_000_000L;
    long epochSeconds = 1_800_000_000L;

    Harness() {
        this(b -> b);
    }

    Harness(UnaryOperator<RelayConfig.Builder> customise) {
        this(customise, AllocationQuotas.local());
    }

    /** One of several relays (workers) whose allocations {@code quotas} counts together. */
    Harness(UnaryOperator<RelayConfig.Builder> customise, AllocationQuotas quotas) {
        this(customise, quotas, Reservations.local(), new FakeSockets());
    }

    /** One of several workers sharing quotas, reservations and (as the kernel's ports are) sockets. */
    Harness(
            UnaryOperator<RelayConfig.Builder> customise,
            AllocationQuotas quotas,
            Reservations reservations,
            FakeSockets sockets) {
        this(customise, quotas, reservations, sockets, LiveRelayPorts.local());
    }

    /** One of several workers sharing all of that and the table of relay ports their allocations hold. */
    Harness(
            UnaryOperator<RelayConfig.Builder> customise,
            AllocationQuotas quotas,
            Reservations reservations,
            FakeSockets sockets,
            LiveRelayPorts livePorts) {
        this.sockets = sockets;
        relay = new Relay(customise.apply(configuration()).build(), sockets, quotas, reservations, livePorts);
    }

    /** The configuration every harness starts from, for a test to change and build. */
    static RelayConfig.Builder configuration() {
        return RelayConfig.builder(List.of(LISTENER))
                .credentials(new Credentials(
                        REALM, Map.of(USER, PASSWORD, "bob", "builder"), List.of(SECRET, "older-secret")))
                .relayIpv4(RELAY_IPV4, null)
                .relayPorts(50000, 50999)
                .software(null)
                .policy(new PeerPolicy(
                        List.of(),
                        List.of(Cidr.parse("9.9.9.0/24")),
                        Set.of(RELAY_IPV4, RELAY_IPV6),
                        Set.of(LISTENER)));
    }

    /** A reload, as the loop does it between datagrams: {@link #configuration()} changed by {@code change}. */
    void reload(UnaryOperator<RelayConfig.Builder> change) {
        relay.reconfigure(change.apply(configuration()).build(), nowNs);
    }

    static InetAddress ip(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    void advanceSeconds(long seconds) {
        // in steps, as the loop would call onTimer at least once a second
        for (long s = 0; s < seconds; s++) {
            nowNs += 1_000_000_000L;
            epochSeconds++;
            out.clear();
            relay.onTimer(nowNs, out);
            for (Command c = out.poll(); c != null; c = out.poll()) {
                if (c instanceof Command.CloseRelay close) {
                    closed.add(close.relay());
                } else if (c instanceof Command.AllocationEvent event) {
                    events.add(event);
                }
            }
        }
    }

    /** Feeds a datagram from a client; answers the commands it produced (the forward slot stays in out). */
    List<Command> fromClient(InetSocketAddress client, byte[] datagram) {
        out.clear();
        ByteBuffer buffer = ByteBuffer.allocate(datagram.length + 128);
        buffer.put(64, datagram);
        relay.onClientDatagram(nowNs, epochSeconds, 0, client, buffer, 64, datagram.length, out);
        lastBuffer = buffer;
        List<Command> commands = new ArrayList<>();
        for (Command c = out.poll(); c != null; c = out.poll()) {
            if (c instanceof Command.CloseRelay close) {
                closed.add(close.relay());
            }
            if (c instanceof Command.AllocationEvent event) {
                events.add(event); // for the log, not an effect: kept apart from what the client is answered
            } else {
                commands.add(c);
            }
        }
        return commands;
    }

    ByteBuffer lastBuffer;

    /** Sends a request and answers the one response the client got. */
    StunMessage send(InetSocketAddress client, Req request) {
        List<Command> commands = fromClient(client, request.bytes());
        List<Command.SendToClient> responses = commands.stream()
                .filter(Command.SendToClient.class::isInstance)
                .map(Command.SendToClient.class::cast)
                .toList();
        assertThat(responses).as("responses").hasSize(1);
        Command.SendToClient response = responses.get(0);
        assertThat(response.client()).isEqualTo(client);
        StunMessage message = new StunMessage();
        assertThat(message.wrap(ByteBuffer.wrap(response.bytes()), 0, response.bytes().length))
                .isEqualTo(DecodeStatus.OK);
        assertThat(message.transactionIdHigh()).isEqualTo(request.txHigh);
        assertThat(message.transactionIdLow()).isEqualTo(request.txLow);
        return message;
    }

    /** The 401 challenge to an unauthenticated request. */
    StunMessage nonceChallenge(InetSocketAddress client) {
        StunMessage challenge = send(client, Req.allocate());
        assertThat(challenge.errorCode()).isEqualTo(401);
        return challenge;
    }

    /** The nonce from a 401 challenge to an unauthenticated request. */
    String nonce(InetSocketAddress client) {
        return nonceChallenge(client).string(StunAttribute.NONCE);
    }

    /** Signs a request as alice with a fresh nonce. */
    Req signed(InetSocketAddress client, Req request) {
        return request.auth(USER, REALM, nonce(client), KEY);
    }

    StunMessage allocate(InetSocketAddress client) {
        StunMessage response = send(client, signed(client, Req.allocate()));
        assertThat(response.errorCode()).as("allocate error").isEqualTo(-1);
        return response;
    }

    /** A CreatePermission for {@code peer}, signed as alice from {@code client}; it must succeed. */
    void permit(InetSocketAddress client, InetSocketAddress peer) {
        StunMessage response = send(
                client,
                signed(
                        client,
                        Req.request(dev.turnpike.core.stun.StunMethod.CREATE_PERMISSION)
                                .peer(peer)));
        assertThat(response.errorCode()).as("CreatePermission error").isEqualTo(-1);
    }

    /** A ChannelBind of {@code number} to {@code peer}, signed as alice from {@code client}; its error code or -1. */
    int bindChannel(InetSocketAddress client, int number, InetSocketAddress peer) {
        return send(
                        client,
                        signed(
                                client,
                                Req.request(dev.turnpike.core.stun.StunMethod.CHANNEL_BIND)
                                        .channel(number)
                                        .peer(peer)))
                .errorCode();
    }

    InetSocketAddress relayedAddress(StunMessage allocateResponse) {
        return allocateResponse.xorAddress(allocateResponse.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
    }

    /** The endpoint now serving {@code port}: the last opened or adopted for it. */
    RelayEndpoint endpoint(int port) {
        List<RelayEndpoint> all = new ArrayList<>(sockets.opened);
        all.addAll(sockets.adopted);
        return all.stream().filter(e -> e.port() == port).reduce((a, b) -> b).orElseThrow();
    }

    /** Feeds a peer's datagram to a relay endpoint, with headroom in front as the loop leaves it. */
    void fromPeer(RelayEndpoint endpoint, InetSocketAddress peer, byte[] payload) {
        out.clear();
        ByteBuffer buffer = ByteBuffer.allocate(Relay.HEADROOM + payload.length + 8);
        buffer.put(Relay.HEADROOM, payload);
        lastBuffer = buffer;
        relay.onPeerDatagram(nowNs, endpoint, peer, buffer, Relay.HEADROOM, payload.length, out);
    }

    /** The bytes in the forward slot. */
    byte[] forwarded() {
        byte[] bytes = new byte[out.length()];
        out.buffer(lastBuffer).get(out.offset(), bytes);
        return bytes;
    }

    long dropped(RelayCounters.Drop reason) {
        return relay.counters().dropped(reason);
    }
}
