package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.NonceIssuer;
import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RFC 6062 in the core under random sequences: TCP allocations, Connects, permissions, the loop's reports (connected,
 * refused, a peer connecting in, a connection closed), ConnectionBinds with ids given, made up and used, from the
 * control connection and from others, Refreshes that end allocations, and time. After every step: every request
 * answered at once or, for a Connect the loop works on, exactly once later; no id bound twice; nothing bound, closed
 * or connected that was never asked for. At the end, past every lifetime: no id can be bound any more.
 */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class TcpRelayingProperties {
    private static final InetSocketAddress[] CONTROLS = {
        Harness.CLIENT, Harness.CLIENT2,
    };
    /** The data connections a client opens: its IP, other ports. */
    private static final InetSocketAddress[] DATA = {
        new InetSocketAddress(Harness.CLIENT.getAddress(), 41001),
        new InetSocketAddress(Harness.CLIENT.getAddress(), 41002),
        new InetSocketAddress(Harness.CLIENT2.getAddress(), 41003),
    };

    private static final InetSocketAddress[] PEERS = {
        Harness.PEER, Harness.PEER2, new InetSocketAddress(Harness.ip("9.9.9.9"), 80), Harness.LISTENER
    };

    sealed interface Step {}

    /** 0 Allocate TCP, 1 CreatePermission, 2 Connect, 3 Refresh 0, 4 Allocate UDP. */
    record Control(int client, int kind, int peer) implements Step {}

    record Bind(int from, int which, boolean control, boolean madeUp) implements Step {}

    /** 0 a connect reported done, 1 refused, 2 a peer connects in, 3 the loop closed a connection. */
    record Loop(int kind, int which, int peer) implements Step {}

    record Advance(int seconds) implements Step {}

    static List<Step> sequence(Gen g) {
        return g.list(0, 50, () -> switch (g.weighted(6, 4, 5, 2)) {
            case 0 ->
                new Control(
                        g.between(0, CONTROLS.length - 1), g.weighted(4, 3, 5, 1, 1), g.between(0, PEERS.length - 1));
            case 1 -> new Bind(g.between(0, DATA.length - 1), g.between(0, 31), g.weighted(9, 1) == 1, g.bool());
            case 2 -> new Loop(g.between(0, 3), g.between(0, 31), g.between(0, PEERS.length - 1));
            default -> new Advance(g.oneOf(0, 1, 5, 29, 31, 700));
        });
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(200);
    }

    /** What the test knows of the core's connections. */
    private static final class Known {
        /** Connects the loop was asked for and has not reported, with the client owed an answer. */
        final Map<Integer, Command.ConnectPeer> connecting = new HashMap<>();

        final Map<Integer, InetSocketAddress> owedTo = new HashMap<>();
        /** Every id the core gave out (Connect asked, or a peer accepted), in order. */
        final List<Integer> ids = new ArrayList<>();

        final Set<Integer> bound = new HashSet<>();
        final Set<Integer> closedByLoop = new HashSet<>();
        final List<RelayEndpoint> tcpEndpoints = new ArrayList<>();
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void anySequenceAnswersEveryRequestOnceAndBindsNothingTwice(long seed) {
        List<Step> steps = sequence(new Gen(seed));
        Harness h = new Harness(b -> b.streamListener(0).perAllocation(3, 3).quotas(4, 4, 4));
        NonceIssuer nonces = new NonceIssuer(new byte[32], 600);
        Known known = new Known();
        for (Step step : steps) {
            switch (step) {
                case Control c -> control(h, nonces, known, c);
                case Bind b -> bind(h, nonces, known, b);
                case Loop l -> loop(h, known, l);
                case Advance a -> {
                    for (int s = 0; s < a.seconds(); s++) {
                        h.nowNs += 1_000_000_000L;
                        h.out.clear();
                        h.relay.onTimer(h.nowNs, h.out);
                        check(h, known, drain(h), null);
                    }
                }
            }
        }
        h.advanceSeconds(3_700);
        for (int id : known.ids) {
            StunMessage answer = answerTo(h, DATA[0], bindRequest(h, nonces, DATA[0], id));
            assertThat(answer.errorCode())
                    .as("id %08x bound after every lifetime", id)
                    .isEqualTo(400);
        }
    }

    private static void control(Harness h, NonceIssuer nonces, Known known, Control c) {
        InetSocketAddress client = CONTROLS[c.client()];
        InetSocketAddress peer = PEERS[c.peer()];
        Req request = switch (c.kind()) {
            case 0 -> Req.request(StunMethod.ALLOCATE).transport(6);
            case 1 -> Req.request(StunMethod.CREATE_PERMISSION).peer(peer);
            case 2 -> Req.request(StunMethod.CONNECT).peer(peer);
            case 3 -> Req.request(StunMethod.REFRESH).lifetime(0);
            default -> Req.allocate();
        };
        int openedBefore = h.sockets.opened.size();
        List<Command> commands = h.fromClient(
                client, sign(request, nonces.issue(client, h.nowNs)).bytes());
        for (int i = openedBefore; i < h.sockets.opened.size(); i++) {
            if (h.sockets.opened.get(i).tcp()) {
                known.tcpEndpoints.add(h.sockets.opened.get(i));
            }
        }
        boolean answeredLater = check(h, known, commands, client);
        long answers =
                commands.stream().filter(Command.SendToClient.class::isInstance).count();
        assertThat(answers).as("answered at once, or later").isEqualTo(answeredLater ? 0 : 1);
    }

    private static void bind(Harness h, NonceIssuer nonces, Known known, Bind b) {
        InetSocketAddress from = b.control() ? CONTROLS[0] : DATA[b.from()];
        int id = b.madeUp() || known.ids.isEmpty()
                ? 0x00ABCDEF + b.which()
                : known.ids.get(Math.floorMod(b.which(), known.ids.size()));
        List<Command> commands =
                h.fromClient(from, bindRequest(h, nonces, from, id).bytes());
        check(h, known, commands, from);
        assertThat(commands.stream().filter(Command.SendToClient.class::isInstance))
                .as("a ConnectionBind is answered at once")
                .hasSize(1);
    }

    private static void loop(Harness h, Known known, Loop l) {
        h.out.clear();
        switch (l.kind()) {
            case 0, 1 -> {
                if (known.connecting.isEmpty()) {
                    return;
                }
                List<Integer> pending = new ArrayList<>(known.connecting.keySet());
                pending.sort(null);
                int id = pending.get(Math.floorMod(l.which(), pending.size()));
                Command.ConnectPeer asked = known.connecting.remove(id);
                InetSocketAddress owed = known.owedTo.remove(id);
                boolean kept = h.relay.onPeerConnected(h.nowNs, asked.relay(), id, l.kind() == 0, h.out);
                List<Command> commands = drain(h);
                check(h, known, commands, null);
                if (kept) {
                    assertThat(l.kind()).as("a refused connect is never kept").isZero();
                }
                long answers = commands.stream()
                        .filter(c -> c instanceof Command.SendToClient s
                                && s.client().equals(owed))
                        .count();
                assertThat(answers)
                        .as("a reported connect is answered once, unless its allocation ended")
                        .isLessThanOrEqualTo(1);
                assertThat(answers == 1).isEqualTo(kept || l.kind() == 1 && !commands.isEmpty());
            }
            case 2 -> {
                if (known.tcpEndpoints.isEmpty()) {
                    return;
                }
                RelayEndpoint endpoint = known.tcpEndpoints.get(Math.floorMod(l.which(), known.tcpEndpoints.size()));
                int id = h.relay.onPeerAccepted(h.nowNs, endpoint, PEERS[l.peer()], h.out);
                List<Command> commands = drain(h);
                check(h, known, commands, null);
                if (id != 0) {
                    assertThat(known.ids).as("an id given twice").doesNotContain(id);
                    known.ids.add(id);
                    assertThat(commands).hasSize(1);
                } else {
                    assertThat(commands).isEmpty();
                }
            }
            default -> {
                if (known.ids.isEmpty()) {
                    return;
                }
                int id = known.ids.get(Math.floorMod(l.which(), known.ids.size()));
                for (RelayEndpoint endpoint : known.tcpEndpoints) {
                    h.relay.onTcpConnectionClosed(endpoint, id);
                }
                known.closedByLoop.add(id);
                known.bound.remove(id);
                known.connecting.remove(id);
                known.owedTo.remove(id);
            }
        }
    }

    /**
     * Checks what the core asked of the loop, and records it; answers whether {@code from}'s request is answered
     * later (a Connect the loop works on).
     */
    private static boolean check(Harness h, Known known, List<Command> commands, InetSocketAddress from) {
        boolean later = false;
        for (Command command : commands) {
            switch (command) {
                case Command.ConnectPeer p -> {
                    assertThat(known.ids).as("an id given twice").doesNotContain(p.connectionId());
                    assertThat(p.relay().tcp()).isTrue();
                    assertThat(h.closed).doesNotContain(p.relay());
                    known.ids.add(p.connectionId());
                    known.connecting.put(p.connectionId(), p);
                    known.owedTo.put(p.connectionId(), from);
                    later = true;
                }
                case Command.BindConnection b -> {
                    assertThat(known.ids).as("bound, never given").contains(b.connectionId());
                    assertThat(known.bound.add(b.connectionId()))
                            .as("bound twice: %08x", b.connectionId())
                            .isTrue();
                    assertThat(known.connecting).doesNotContainKey(b.connectionId());
                    assertThat(b.client()).isEqualTo(from);
                }
                case Command.CloseConnection c -> {
                    assertThat(known.ids).as("closed, never given").contains(c.connectionId());
                    Command.ConnectPeer asked = known.connecting.remove(c.connectionId());
                    InetSocketAddress owed = known.owedTo.remove(c.connectionId());
                    if (asked != null) {
                        // a connect timed out: its 447 is in this same output
                        assertThat(commands)
                                .anySatisfy(m -> assertThat(m instanceof Command.SendToClient s
                                                && s.client().equals(owed)
                                                && errorCode(s) == 447)
                                        .isTrue());
                    }
                }
                case Command.SendToClient s -> {
                    StunMessage message = new StunMessage();
                    assertThat(message.wrap(ByteBuffer.wrap(s.bytes()), 0, s.bytes().length))
                            .isEqualTo(DecodeStatus.OK);
                }
                default -> {}
            }
        }
        return later;
    }

    private static int errorCode(Command.SendToClient s) {
        StunMessage message = new StunMessage();
        message.wrap(ByteBuffer.wrap(s.bytes()), 0, s.bytes().length);
        return message.errorCode();
    }

    private static List<Command> drain(Harness h) {
        List<Command> commands = new ArrayList<>();
        for (Command c = h.out.poll(); c != null; c = h.out.poll()) {
            if (c instanceof Command.CloseRelay close) {
                h.closed.add(close.relay());
            } else if (!(c instanceof Command.AllocationEvent)) {
                commands.add(c);
            }
        }
        return commands;
    }

    private static Req bindRequest(Harness h, NonceIssuer nonces, InetSocketAddress from, int id) {
        return sign(
                Req.request(StunMethod.CONNECTION_BIND)
                        .with(w -> w.addU32(StunAttribute.CONNECTION_ID, id & 0xFFFFFFFFL)),
                nonces.issue(from, h.nowNs));
    }

    private static StunMessage answerTo(Harness h, InetSocketAddress from, Req request) {
        List<Command> commands = h.fromClient(from, request.bytes());
        Command.SendToClient s = (Command.SendToClient) commands.stream()
                .filter(Command.SendToClient.class::isInstance)
                .findFirst()
                .orElseThrow();
        StunMessage message = new StunMessage();
        message.wrap(ByteBuffer.wrap(s.bytes()), 0, s.bytes().length);
        return message;
    }

    private static Req sign(Req request, String nonce) {
        return request.auth(Harness.USER, Harness.REALM, nonce, Harness.KEY);
    }
}
