package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What must hold after any input to the core, for the property tests and the fuzzer alike: every datagram is
 * answered, forwarded or counted; every answer is a well-formed response; every forward lies inside the buffer
 * and leaves through an open relay port; and once every lifetime has passed, nothing is left open.
 */
final class CoreInvariants {
    private CoreInvariants() {}

    /** Feeds {@code datagram} from {@code client} and checks what came out. */
    static void fromClient(Harness h, InetSocketAddress client, byte[] datagram) {
        long droppedBefore = h.relay.counters().droppedTotal();
        boolean answered = false;
        for (Command command : h.fromClient(client, datagram)) {
            if (command instanceof Command.SendToClient s) {
                answered = true;
                assertThat(s.client()).isEqualTo(client);
                StunMessage response = new StunMessage();
                assertThat(response.wrap(ByteBuffer.wrap(s.bytes()), 0, s.bytes().length))
                        .as("a well-formed response")
                        .isEqualTo(DecodeStatus.OK);
                assertThat(response.messageClass()).isIn(StunMethod.CLASS_SUCCESS, StunMethod.CLASS_ERROR);
            }
        }
        boolean forwarded = checkForward(h, datagram.length + 128);
        boolean dropped = h.relay.counters().droppedTotal() > droppedBefore;
        assertThat(answered || forwarded || dropped || isIgnorableIndication(datagram))
                .as("the datagram was answered, forwarded or counted")
                .isTrue();
    }

    /** Feeds a peer's datagram to one of the relay ports now open (if any) and checks what came out. */
    static void fromPeer(Harness h, int endpointIndex, InetSocketAddress peer, byte[] payload) {
        List<RelayEndpoint> open = new ArrayList<>(h.sockets.opened);
        open.addAll(h.sockets.adopted);
        open.removeIf(h.closed::contains);
        if (open.isEmpty()) {
            return;
        }
        RelayEndpoint endpoint = open.get(Math.floorMod(endpointIndex, open.size()));
        long droppedBefore = h.relay.counters().droppedTotal();
        h.fromPeer(endpoint, peer, payload);
        boolean forwarded = checkForward(h, Relay.HEADROOM + payload.length + 8);
        assertThat(forwarded || h.relay.counters().droppedTotal() > droppedBefore)
                .as("a peer's datagram was forwarded or counted")
                .isTrue();
    }

    /** The forward slot, if filled, lies inside the buffer and goes through an open relay port. */
    private static boolean checkForward(Harness h, int bufferCapacity) {
        Outbox out = h.out;
        if (out.forward() == Outbox.Forward.NONE) {
            return false;
        }
        assertThat(out.offset()).isGreaterThanOrEqualTo(0);
        assertThat(out.length()).isGreaterThanOrEqualTo(0);
        assertThat(out.offset() + out.length()).isLessThanOrEqualTo(bufferCapacity);
        assertThat(out.destination()).isNotNull();
        if (out.forward() == Outbox.Forward.TO_PEER) {
            assertThat(h.closed).as("forwarded through a closed relay port").doesNotContain(out.relay());
            assertThat(out.destination().getAddress().isLoopbackAddress())
                    .as("never to a denied peer")
                    .isFalse();
        }
        return true;
    }

    private static boolean isIgnorableIndication(byte[] datagram) {
        StunMessage message = new StunMessage();
        return message.wrap(ByteBuffer.wrap(datagram), 0, datagram.length) == DecodeStatus.OK
                && message.messageClass() == StunMethod.CLASS_INDICATION
                && message.method() != StunMethod.SEND;
    }

    /** Lets every lifetime pass; then no allocation is left and every relay port opened was closed, once. */
    static void nothingLeftOpenInTheEnd(Harness h, int maxAllocations) {
        assertThat(h.relay.allocationCount()).isBetween(0, maxAllocations);
        h.advanceSeconds(3_700); // past the longest lifetime (at most 3600 s) and every reservation
        assertThat(h.relay.allocationCount()).isZero();
        Set<RelayEndpoint> closed = new HashSet<>();
        for (RelayEndpoint endpoint : h.closed) {
            assertThat(closed.add(endpoint)).as("closed once: " + endpoint).isTrue();
            assertThat(h.sockets.opened.contains(endpoint) || h.sockets.adopted.contains(endpoint))
                    .as("closed but never opened: " + endpoint)
                    .isTrue();
        }
        for (RelayEndpoint opened : h.sockets.opened) {
            boolean adopted = h.sockets.adopted.stream().anyMatch(a -> a.local().equals(opened.local()));
            assertThat(closed.contains(opened) || adopted)
                    .as("relay port " + opened.port() + " opened and never closed")
                    .isTrue();
        }
    }
}
