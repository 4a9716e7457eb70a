package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.NonceIssuer;
import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The core under random sequences: datagrams from several clients (valid, signed, mutated and random bytes of
 * any size) and from peers to whatever relay ports are open, with time advancing, the wall clock jumping, reloads
 * (users, limits, peer policy) and a drain.
 * After every input: no exception, every response a well-formed STUN response, every forward inside the
 * buffer and through an open relay port, and every datagram answered, forwarded or counted as dropped. At the
 * end, once every lifetime has passed: no allocation left and every relay port opened was closed.
 */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class RelayProperties {
    private static final InetSocketAddress[] CLIENTS = {
        Harness.CLIENT,
        Harness.CLIENT2,
        new InetSocketAddress(Harness.ip("198.51.100.7"), 40001),
        new InetSocketAddress(Harness.ip("2001:db8:1::7"), 40000)
    };
    private static final InetSocketAddress[] PEERS = {
        Harness.PEER, Harness.PEER2, Harness.PEER6, new InetSocketAddress(Harness.ip("127.0.0.1"), 22)
    };

    sealed interface Step {}

    record FromClient(int client, int kind, int peer, int number, int size, int flip) implements Step {}

    record FromPeer(int endpoint, int peer, int size) implements Step {}

    record Advance(int seconds, int wallJumpSeconds) implements Step {}

    /** A reload with other users, limits and peer policy (what a reload may change). */
    record Reload(int quota, int perAllocation, int kilobitsPerSecond, boolean denyPeers, boolean dropBob)
            implements Step {}

    /** A drain begins (a second one changes nothing). */
    record Drain(boolean withAlternate) implements Step {}

    /** Up to 60 steps: client datagrams most often, then peers', time, reloads and drains. */
    static List<Step> sequence(Gen g) {
        return g.list(0, 60, () -> switch (g.weighted(12, 6, 2, 1, 1)) {
            case 0 ->
                new FromClient(
                        g.between(0, CLIENTS.length - 1),
                        g.between(0, 11),
                        g.between(0, PEERS.length - 1),
                        g.between(0x3FFF, 0x4003),
                        g.bool() ? g.between(0, 64) : g.between(0, 65_507),
                        g.between(-1, 200));
            case 1 -> new FromPeer(g.between(0, 7), g.between(0, PEERS.length - 1), g.between(0, 1500));
            case 2 -> new Advance(g.between(0, 700), g.between(-3_600, 3_600));
            case 3 -> new Reload(g.between(0, 3), g.between(0, 3), g.between(0, 20), g.bool(), g.bool());
            default -> new Drain(g.bool());
        });
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(300);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void anySequenceKeepsTheCoreConsistentAndLeavesNothingBehind(long seed) {
        List<Step> steps = sequence(new Gen(seed));
        Harness h = new Harness(
                b -> b.relayIpv6(Harness.RELAY_IPV6, null).quotas(3, 2, 2).perAllocation(2, 2));
        NonceIssuer nonces = new NonceIssuer(new byte[32], 600); // the harness relay's nonce key
        for (Step step : steps) {
            switch (step) {
                case FromClient c -> fromClient(h, nonces, c);
                case FromPeer p -> CoreInvariants.fromPeer(h, p.endpoint(), PEERS[p.peer()], new byte[p.size()]);
                case Advance a -> {
                    h.epochSeconds += a.wallJumpSeconds();
                    h.advanceSeconds(a.seconds());
                }
                case Reload r ->
                    h.reload(b -> b.relayIpv6(Harness.RELAY_IPV6, null)
                            .quotas(r.quota(), 2, 2)
                            .perAllocation(r.perAllocation(), r.perAllocation())
                            .bandwidth(r.kilobitsPerSecond() * 1_000L, 0)
                            .credentials(new dev.turnpike.core.auth.Credentials(
                                    Harness.REALM,
                                    r.dropBob()
                                            ? java.util.Map.of(Harness.USER, Harness.PASSWORD)
                                            : java.util.Map.of(Harness.USER, Harness.PASSWORD, "bob", "builder"),
                                    List.of(Harness.SECRET)))
                            .policy(new dev.turnpike.core.policy.PeerPolicy(
                                    List.of(),
                                    r.denyPeers()
                                            ? List.of(
                                                    dev.turnpike.core.policy.Cidr.parse("8.0.0.0/8"),
                                                    dev.turnpike.core.policy.Cidr.parse("2606:4700::/32"))
                                            : List.of(),
                                    java.util.Set.of(Harness.RELAY_IPV4, Harness.RELAY_IPV6),
                                    java.util.Set.of(Harness.LISTENER))));
                case Drain d ->
                    h.relay.drain(
                            d.withAlternate()
                                    ? List.of(new InetSocketAddress(Harness.ip("203.0.113.9"), 3478))
                                    : List.of());
            }
            assertThat(h.relay.allocationCount()).isBetween(0, 3);
        }
        CoreInvariants.nothingLeftOpenInTheEnd(h, 3);
    }

    private static void fromClient(Harness h, NonceIssuer nonces, FromClient c) {
        InetSocketAddress client = CLIENTS[c.client()];
        InetSocketAddress peer = PEERS[c.peer()];
        String nonce = nonces.issue(client, h.nowNs);
        byte[] datagram = switch (c.kind()) {
            case 0 -> randomBytes(c.size(), c.flip());
            case 1 -> Req.request(StunMethod.BINDING).bytes();
            case 2 -> Req.allocate().bytes();
            case 3 -> sign(Req.allocate().lifetime(c.size()), nonce);
            case 4 -> sign(Req.request(StunMethod.CREATE_PERMISSION).peer(peer), nonce);
            case 5 ->
                sign(Req.request(StunMethod.CHANNEL_BIND).channel(c.number()).peer(peer), nonce);
            case 6 -> sign(Req.request(StunMethod.REFRESH).lifetime(c.size() % 3 == 0 ? 0 : c.size()), nonce);
            case 7 -> channelData(c.number(), c.size());
            case 8 ->
                Req.indication(StunMethod.SEND)
                        .peer(peer)
                        .data(new byte[Math.min(c.size(), 65_000)])
                        .bytes();
            case 9 -> Req.indication(StunMethod.BINDING).bytes();
            case 10 -> sign(Req.allocate().family(c.size() % 2 + 1), "not-a-nonce");
            default ->
                mutate(
                        sign(
                                Req.request(StunMethod.CHANNEL_BIND)
                                        .channel(c.number())
                                        .peer(peer),
                                nonce),
                        c);
        };
        CoreInvariants.fromClient(h, client, datagram);
    }

    private static byte[] sign(Req request, String nonce) {
        return request.auth(Harness.USER, Harness.REALM, nonce, Harness.KEY).bytes();
    }

    private static byte[] channelData(int number, int size) {
        int payload = Math.min(size, 65_531);
        ByteBuffer b = ByteBuffer.allocate(4 + payload);
        b.putShort((short) number).putShort((short) payload);
        return b.array();
    }

    private static byte[] randomBytes(int size, int seed) {
        byte[] bytes = new byte[size];
        new java.util.SplittableRandom(seed).nextBytes(bytes);
        return bytes;
    }

    /** A valid message with one byte changed (or, for flip -1, cut short by a few bytes). */
    private static byte[] mutate(byte[] datagram, FromClient c) {
        if (c.flip() < 0) {
            return java.util.Arrays.copyOf(datagram, Math.max(0, datagram.length - 1 - c.size() % 8));
        }
        byte[] copy = datagram.clone();
        copy[c.flip() % copy.length] ^= (byte) (1 + c.size() % 255);
        return copy;
    }
}
