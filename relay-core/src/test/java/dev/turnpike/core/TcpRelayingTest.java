package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.PEER;
import static dev.turnpike.core.Harness.PEER2;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** RFC 6062 TCP relaying in the core: Connect, a peer's own connect, ConnectionBind, and their timeouts. */
class TcpRelayingTest {
    /** The client's second connection, from which it binds data connections. */
    private static final InetSocketAddress DATA = new InetSocketAddress(CLIENT.getAddress(), 40001);

    private final Harness h = new Harness(b -> b.streamListener(0));

    private RelayEndpoint allocateTcp() {
        StunMessage response = h.send(CLIENT, h.signed(CLIENT, tcpAllocate()));
        assertThat(response.errorCode()).as("allocate error").isEqualTo(-1);
        RelayEndpoint endpoint = h.endpoint(h.relayedAddress(response).getPort());
        assertThat(endpoint.tcp()).isTrue();
        return endpoint;
    }

    private static Req tcpAllocate() {
        return Req.request(StunMethod.ALLOCATE).transport(6);
    }

    private List<Command> connect(InetSocketAddress peer) {
        return h.fromClient(
                CLIENT,
                h.signed(CLIENT, Req.request(StunMethod.CONNECT).peer(peer)).bytes());
    }

    /** A Connect the loop is asked to carry out: its command. */
    private Command.ConnectPeer connectAsked(InetSocketAddress peer) {
        List<Command> commands = connect(peer);
        assertThat(commands).hasSize(1).first().isInstanceOf(Command.ConnectPeer.class);
        return (Command.ConnectPeer) commands.get(0);
    }

    /** What the loop's report of a connect produced: the one message to the client, decoded. */
    private StunMessage connected(Command.ConnectPeer asked, boolean ok) {
        h.out.clear();
        boolean kept = h.relay.onPeerConnected(h.nowNs, asked.relay(), asked.connectionId(), ok, h.out);
        assertThat(kept).isEqualTo(ok);
        return onlyMessage(drain());
    }

    /** {@code seconds} pass, the timers run each second as the loop runs them; what they produced. */
    private List<Command> afterSeconds(int seconds) {
        List<Command> commands = new ArrayList<>();
        for (int s = 0; s < seconds; s++) {
            h.nowNs += 1_000_000_000L;
            h.out.clear();
            h.relay.onTimer(h.nowNs, h.out);
            commands.addAll(drain());
        }
        return commands;
    }

    private List<Command> drain() {
        List<Command> commands = new ArrayList<>();
        for (Command c = h.out.poll(); c != null; c = h.out.poll()) {
            commands.add(c);
        }
        return commands;
    }

    private static StunMessage onlyMessage(List<Command> commands) {
        assertThat(commands).hasSize(1).first().isInstanceOf(Command.SendToClient.class);
        byte[] bytes = ((Command.SendToClient) commands.get(0)).bytes();
        StunMessage message = new StunMessage();
        assertThat(message.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isEqualTo(DecodeStatus.OK);
        return message;
    }

    private StunMessage bind(InetSocketAddress from, int connectionId) {
        return h.send(
                from,
                h.signed(
                        from,
                        Req.request(StunMethod.CONNECTION_BIND)
                                .with(w -> w.addU32(StunAttribute.CONNECTION_ID, connectionId & 0xFFFFFFFFL))));
    }

    @Test
    void aTcpAllocationIsMadeOverAConnectionAndItsRelayedAddressIsTcp() {
        RelayEndpoint endpoint = allocateTcp();
        assertThat(endpoint.allocation.tcp).isTrue();
    }

    @Test
    void aTcpAllocationIsRefusedOverDatagramsAndWhenTcpRelayingIsOff() {
        Harness udp = new Harness();
        assertThat(udp.send(CLIENT, udp.signed(CLIENT, tcpAllocate())).errorCode())
                .isEqualTo(400);
        Harness off = new Harness(b -> b.streamListener(0).tcpRelay(false));
        assertThat(off.send(CLIENT, off.signed(CLIENT, tcpAllocate())).errorCode())
                .isEqualTo(442);
    }

    @Test
    void aConnectIsAnsweredWithItsConnectionIdOnceTheLoopHasConnected() {
        RelayEndpoint endpoint = allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        assertThat(asked.relay()).isSameAs(endpoint);
        assertThat(asked.peer()).isEqualTo(PEER);
        StunMessage response = connected(asked, true);
        assertThat(response.messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
        assertThat(response.method()).isEqualTo(StunMethod.CONNECT);
        assertThat((int) response.u32Value(StunAttribute.CONNECTION_ID, 0)).isEqualTo(asked.connectionId());
        assertThat(response.indexOf(StunAttribute.MESSAGE_INTEGRITY))
                .as("signed")
                .isGreaterThanOrEqualTo(0);
    }

    @Test
    void aConnectThatFailsIsAnswered447AndForgotten() {
        allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        assertThat(connected(asked, false).errorCode()).isEqualTo(447);
        assertThat(h.relay.counters().tcpRelay(RelayCounters.TcpRelay.CONNECTS_FAILED))
                .isEqualTo(1);
        connectAsked(PEER); // no connection to the peer is left: a new Connect is taken
    }

    @Test
    void aConnectNotDoneIn30SecondsIsAnswered447AndItsSocketClosed() {
        allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        List<Command> commands = afterSeconds(31);
        assertThat(commands).hasSize(2);
        assertThat(onlyMessage(commands.subList(0, 1)).errorCode()).isEqualTo(447);
        assertThat(commands.get(1)).isEqualTo(new Command.CloseConnection(asked.relay(), asked.connectionId()));
        h.out.clear();
        assertThat(h.relay.onPeerConnected(h.nowNs, asked.relay(), asked.connectionId(), true, h.out))
                .as("a connect that completes too late is closed")
                .isFalse();
        assertThat(drain()).isEmpty();
    }

    @Test
    void aConnectToADeniedPeerIsRefused403InEverySpelling() {
        allocateTcp();
        for (String denied :
                List.of("9.9.9.9", "127.0.0.1", "10.1.2.3", "0.0.0.0", "169.254.1.1", "::ffff:127.0.0.1")) {
            StunMessage response = h.send(
                    CLIENT,
                    h.signed(
                            CLIENT,
                            Req.request(StunMethod.CONNECT).peer(new InetSocketAddress(Harness.ip(denied), 80))));
            assertThat(response.errorCode()).as(denied).isEqualTo(403);
        }
        // the relay's own listener and relayed addresses are no peers either
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.CONNECT).peer(Harness.LISTENER)))
                        .errorCode())
                .isEqualTo(403);
        // over IPv6, the IPv4 inside (NAT64, 6to4, compatible) is judged too, and IPv6's own special ranges
        Harness six = new Harness(b -> b.streamListener(0).relayIpv6(Harness.RELAY_IPV6, null));
        assertThat(six.send(CLIENT, six.signed(CLIENT, tcpAllocate().family(2))).errorCode())
                .isEqualTo(-1);
        for (String denied : List.of("::1", "fe80::1", "64:ff9b::7f00:1", "2002:7f00:1::", "::7f00:1", "fc00::1")) {
            StunMessage response = six.send(
                    CLIENT,
                    six.signed(
                            CLIENT,
                            Req.request(StunMethod.CONNECT).peer(new InetSocketAddress(Harness.ip(denied), 80))));
            assertThat(response.errorCode()).as(denied).isEqualTo(403);
        }
        assertThat(h.relay.counters().peersRefused()).isEqualTo(7);
    }

    @Test
    void aSecondConnectToTheSamePeerIs446() {
        allocateTcp();
        connectAsked(PEER);
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.CONNECT).peer(PEER)))
                        .errorCode())
                .isEqualTo(446);
        connectAsked(PEER2); // another peer is another connection
    }

    @Test
    void aConnectWithoutPeerOrOnAUdpAllocationIs400AndWithoutAllocation437() {
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.CONNECT).peer(PEER)))
                        .errorCode())
                .isEqualTo(437);
        h.allocate(CLIENT);
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.CONNECT).peer(PEER)))
                        .errorCode())
                .isEqualTo(400);
        Harness tcp = new Harness(b -> b.streamListener(0));
        assertThat(tcp.send(CLIENT, tcp.signed(CLIENT, tcpAllocate())).errorCode())
                .isEqualTo(-1);
        assertThat(tcp.send(CLIENT, tcp.signed(CLIENT, Req.request(StunMethod.CONNECT)))
                        .errorCode())
                .isEqualTo(400);
    }

    @Test
    void aTcpAllocationTakesNoChannelsAndRelaysNoDatagrams() {
        allocateTcp();
        assertThat(h.bindChannel(CLIENT, 0x4000, PEER)).isEqualTo(400);
        h.permit(CLIENT, PEER);
        h.fromClient(
                CLIENT,
                Req.indication(StunMethod.SEND).peer(PEER).data(new byte[] {1}).bytes());
        assertThat(h.out.forward()).isEqualTo(Outbox.Forward.NONE);
        assertThat(h.dropped(RelayCounters.Drop.NO_PERMISSION)).isEqualTo(1);
    }

    @Test
    void aConnectionBindPairsTheNewConnectionOnceAndOnlyForTheSameUser() {
        allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        connected(asked, true);
        // another user cannot take it
        StunMessage bob = h.send(
                DATA,
                Req.request(StunMethod.CONNECTION_BIND)
                        .with(w -> w.addU32(StunAttribute.CONNECTION_ID, asked.connectionId() & 0xFFFFFFFFL))
                        .auth(
                                "bob",
                                Harness.REALM,
                                h.nonce(DATA),
                                dev.turnpike.core.auth.LongTermKey.md5("bob", Harness.REALM, "builder")));
        assertThat(bob.errorCode()).isEqualTo(441);
        List<Command> commands = h.fromClient(
                DATA,
                h.signed(
                                DATA,
                                Req.request(StunMethod.CONNECTION_BIND)
                                        .with(w -> w.addU32(
                                                StunAttribute.CONNECTION_ID, asked.connectionId() & 0xFFFFFFFFL)))
                        .bytes());
        assertThat(commands).hasSize(2);
        assertThat(onlyMessage(commands.subList(0, 1)).messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
        assertThat(commands.get(1))
                .as("the response first, then the connection turns to data")
                .isEqualTo(new Command.BindConnection(0, DATA, asked.relay(), asked.connectionId()));
        // reused: refused
        InetSocketAddress third = new InetSocketAddress(CLIENT.getAddress(), 40002);
        assertThat(bind(third, asked.connectionId()).errorCode()).isEqualTo(400);
        assertThat(h.relay.counters().tcpRelay(RelayCounters.TcpRelay.BINDS)).isEqualTo(1);
    }

    @Test
    void aConnectionBindWithAWrongIdOrOnTheControlConnectionIs400() {
        allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        assertThat(bind(DATA, asked.connectionId()).errorCode())
                .as("not connected yet")
                .isEqualTo(400);
        connected(asked, true);
        assertThat(bind(DATA, asked.connectionId() ^ 1).errorCode())
                .as("unknown")
                .isEqualTo(400);
        assertThat(bind(CLIENT, asked.connectionId()).errorCode())
                .as("the control connection")
                .isEqualTo(400);
        assertThat(h.send(DATA, h.signed(DATA, Req.request(StunMethod.CONNECTION_BIND)))
                        .errorCode())
                .as("no CONNECTION-ID")
                .isEqualTo(400);
        assertThat(h.send(
                                DATA,
                                h.signed(
                                        DATA,
                                        Req.request(StunMethod.CONNECTION_BIND)
                                                .with(w -> w.addBytes(StunAttribute.CONNECTION_ID, new byte[3]))))
                        .errorCode())
                .as("a short CONNECTION-ID")
                .isEqualTo(400);
        assertThat(bind(DATA, asked.connectionId()).errorCode())
                .as("still bindable")
                .isEqualTo(-1);
    }

    @Test
    void aPeerWithAPermissionGetsAConnectionAttemptAndOneWithoutIsRefused() {
        RelayEndpoint endpoint = allocateTcp();
        h.out.clear();
        assertThat(h.relay.onPeerAccepted(h.nowNs, endpoint, PEER, h.out)).isZero();
        assertThat(drain()).isEmpty();
        h.permit(CLIENT, PEER);
        h.out.clear();
        int id = h.relay.onPeerAccepted(h.nowNs, endpoint, PEER, h.out);
        assertThat(id).isNotZero();
        StunMessage attempt = onlyMessage(drain());
        assertThat(attempt.messageClass()).isEqualTo(StunMethod.CLASS_INDICATION);
        assertThat(attempt.method()).isEqualTo(StunMethod.CONNECTION_ATTEMPT);
        assertThat((int) attempt.u32Value(StunAttribute.CONNECTION_ID, 0)).isEqualTo(id);
        assertThat(attempt.xorAddress(attempt.indexOf(StunAttribute.XOR_PEER_ADDRESS)))
                .isEqualTo(PEER);
        h.out.clear();
        assertThat(h.relay.onPeerAccepted(h.nowNs, endpoint, PEER, h.out))
                .as("a second connection from the same peer address")
                .isZero();
        assertThat(bind(DATA, id).errorCode()).isEqualTo(-1);
    }

    @Test
    void aConnectionNotBoundIn30SecondsIsClosed() {
        RelayEndpoint endpoint = allocateTcp();
        h.permit(CLIENT, PEER);
        h.out.clear();
        int id = h.relay.onPeerAccepted(h.nowNs, endpoint, PEER, h.out);
        List<Command> commands = afterSeconds(31);
        assertThat(commands).containsExactly(new Command.CloseConnection(endpoint, id));
        assertThat(bind(DATA, id).errorCode()).isEqualTo(400);
        assertThat(h.relay.counters().tcpRelay(RelayCounters.TcpRelay.BIND_TIMEOUTS))
                .isEqualTo(1);
    }

    @Test
    void aConnectionOfAnEndedAllocationCannotBeBound() {
        RelayEndpoint endpoint = allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        connected(asked, true);
        assertThat(h.send(
                                CLIENT,
                                h.signed(CLIENT, Req.request(StunMethod.REFRESH).lifetime(0)))
                        .errorCode())
                .isEqualTo(-1);
        assertThat(h.closed).contains(endpoint);
        assertThat(bind(DATA, asked.connectionId()).errorCode()).isEqualTo(400);
    }

    @Test
    void aConnectionClosedByTheLoopIsForgotten() {
        allocateTcp();
        Command.ConnectPeer asked = connectAsked(PEER);
        connected(asked, true);
        h.relay.onTcpConnectionClosed(asked.relay(), asked.connectionId());
        assertThat(bind(DATA, asked.connectionId()).errorCode()).isEqualTo(400);
        connectAsked(PEER);
    }

    @Test
    void aConnectionBindForAnotherWorkersConnectionIsPassedToItUnanswered() {
        Harness worker0 = new Harness(b -> b.streamListener(0).relayPortShare(0, 2));
        int otherWorkers = (1 << 24) | 0x123456;
        List<Command> commands = worker0.fromClient(
                DATA,
                Req.request(StunMethod.CONNECTION_BIND)
                        .with(w -> w.addU32(StunAttribute.CONNECTION_ID, otherWorkers))
                        .bytes());
        assertThat(commands).containsExactly(new Command.PassConnection(0, DATA, 1));
        // its own worker's ids, and ids of no worker, are answered here
        assertThat(worker0.send(
                        DATA,
                        Req.request(StunMethod.CONNECTION_BIND)
                                .with(w -> w.addU32(StunAttribute.CONNECTION_ID, 0x00123456))))
                .extracting(StunMessage::errorCode)
                .isEqualTo(401);
        assertThat(worker0.send(
                        DATA,
                        Req.request(StunMethod.CONNECTION_BIND)
                                .with(w -> w.addU32(StunAttribute.CONNECTION_ID, 0x05123456))))
                .extracting(StunMessage::errorCode)
                .isEqualTo(401);
    }

    @Test
    void connectionIdsNameTheirWorker() {
        Harness worker1 = new Harness(b -> b.streamListener(0).relayPortShare(1, 2));
        StunMessage response = worker1.send(CLIENT, worker1.signed(CLIENT, tcpAllocate()));
        assertThat(response.errorCode()).isEqualTo(-1);
        List<Command> commands = worker1.fromClient(
                CLIENT,
                worker1.signed(CLIENT, Req.request(StunMethod.CONNECT).peer(PEER))
                        .bytes());
        int id = ((Command.ConnectPeer) commands.get(0)).connectionId();
        assertThat(id >>> 24).isEqualTo(1);
    }
}
