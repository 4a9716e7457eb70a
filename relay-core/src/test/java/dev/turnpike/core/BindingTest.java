package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class BindingTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("198.51.100.7", 40000);
    private static final InetSocketAddress CLIENT6 = new InetSocketAddress("2001:db8::7", 40001);

    private final Relay relay = new Relay(
            RelayConfig.builder(List.of(new InetSocketAddress("192.0.2.1", 3478)))
                    .software("turnpike test")
                    .build(),
            new Harness.FakeSockets());
    private final Outbox out = new Outbox();
    private final MessageIntegrity integrity = new MessageIntegrity();

    private byte[] bindingRequest(boolean fingerprint, int extraAttribute) {
        StunWriter writer = new StunWriter(integrity);
        writer.begin(
                ByteBuffer.allocate(200),
                0,
                StunMethod.messageType(StunMethod.BINDING, StunMethod.CLASS_REQUEST),
                0x1122334455667788L,
                0x99AABBCC);
        if (extraAttribute >= 0) {
            writer.addU32(extraAttribute, 0);
        }
        if (fingerprint) {
            writer.addFingerprint();
        }
        return writer.toBytes();
    }

    private StunMessage send(InetSocketAddress from, byte[] datagram) {
        out.clear();
        relay.onClientDatagram(0L, 0L, 0, from, ByteBuffer.wrap(datagram), 0, datagram.length, out);
        Command command = out.poll();
        assertThat(command).isInstanceOf(Command.SendToClient.class);
        Command.SendToClient send = (Command.SendToClient) command;
        assertThat(send.client()).isEqualTo(from);
        assertThat(out.poll()).isNull();
        StunMessage response = new StunMessage();
        assertThat(response.wrap(ByteBuffer.wrap(send.bytes()), 0, send.bytes().length))
                .isEqualTo(DecodeStatus.OK);
        assertThat(response.transactionIdHigh()).isEqualTo(0x1122334455667788L);
        assertThat(response.transactionIdLow()).isEqualTo(0x99AABBCC);
        return response;
    }

    @Test
    void bindingRequestIsAnsweredWithTheClientsAddressAsXorMappedAddress() {
        StunMessage response = send(CLIENT, bindingRequest(false, -1));
        assertThat(response.method()).isEqualTo(StunMethod.BINDING);
        assertThat(response.messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
        assertThat(response.xorAddress(response.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                .isEqualTo(CLIENT);
        assertThat(response.fingerprintIndex()).isEqualTo(-1);
        assertThat(response.string(StunAttribute.SOFTWARE)).isEqualTo("turnpike test");
    }

    @Test
    void anIpv6ClientGetsItsIpv6Address() {
        StunMessage response = send(CLIENT6, bindingRequest(false, -1));
        assertThat(response.xorAddress(response.indexOf(StunAttribute.XOR_MAPPED_ADDRESS)))
                .isEqualTo(CLIENT6);
    }

    @Test
    void aRequestWithFingerprintGetsAResponseWithAValidFingerprint() {
        StunMessage response = send(CLIENT, bindingRequest(true, -1));
        assertThat(response.fingerprintIndex()).isPositive();
        assertThat(integrity.verifyFingerprint(response)).isTrue();
    }

    @Test
    void anUnknownComprehensionRequiredAttributeEarns420ListingIt() {
        StunMessage response = send(CLIENT, bindingRequest(false, 0x7F01));
        assertThat(response.messageClass()).isEqualTo(StunMethod.CLASS_ERROR);
        assertThat(response.errorCode()).isEqualTo(420);
        int unknown = response.indexOf(StunAttribute.UNKNOWN_ATTRIBUTES);
        assertThat(response.valueLength(unknown)).isEqualTo(2);
        assertThat(response.buffer().getShort(response.valueOffset(unknown)) & 0xFFFF)
                .isEqualTo(0x7F01);
    }

    @Test
    void anUnknownComprehensionOptionalAttributeIsIgnored() {
        StunMessage response = send(CLIENT, bindingRequest(false, 0xC001));
        assertThat(response.messageClass()).isEqualTo(StunMethod.CLASS_SUCCESS);
    }

    @Test
    void aWrongFingerprintIsCountedAsMalformedAndNotAnswered() {
        byte[] request = bindingRequest(true, -1);
        request[request.length - 1] ^= 1;
        out.clear();
        relay.onClientDatagram(0L, 0L, 0, CLIENT, ByteBuffer.wrap(request), 0, request.length, out);
        assertThat(out.hasCommands()).isFalse();
        assertThat(relay.counters().dropped(RelayCounters.Drop.MALFORMED)).isEqualTo(1);
    }

    @Test
    void junkIsCountedAsMalformedAndNotAnswered() {
        byte[] junk = {0, 1, 2, 3, 4, 5, 6};
        out.clear();
        relay.onClientDatagram(0L, 0L, 0, CLIENT, ByteBuffer.wrap(junk), 0, junk.length, out);
        assertThat(out.hasCommands()).isFalse();
        assertThat(relay.counters().dropped(RelayCounters.Drop.MALFORMED)).isEqualTo(1);
    }

    @Test
    void aBindingIndicationIsAKeepaliveAndGetsNoAnswer() {
        StunWriter writer = new StunWriter(integrity);
        writer.begin(
                ByteBuffer.allocate(64),
                0,
                StunMethod.messageType(StunMethod.BINDING, StunMethod.CLASS_INDICATION),
                1L,
                2);
        byte[] indication = writer.toBytes();
        out.clear();
        relay.onClientDatagram(0L, 0L, 0, CLIENT, ByteBuffer.wrap(indication), 0, indication.length, out);
        assertThat(out.hasCommands()).isFalse();
        assertThat(relay.counters().dropped(RelayCounters.Drop.MALFORMED)).isZero();
    }
}
