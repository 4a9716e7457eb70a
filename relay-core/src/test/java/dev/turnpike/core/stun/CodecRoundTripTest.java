package dev.turnpike.core.stun;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** What the writer encodes, the reader decodes to the same values. */
class CodecRoundTripTest {
    private final MessageIntegrity integrity = new MessageIntegrity();

    private StunMessage roundTrip(StunWriter writer) {
        byte[] bytes = writer.toBytes();
        StunMessage message = new StunMessage();
        assertThat(message.wrap(ByteBuffer.wrap(bytes), 0, bytes.length)).isEqualTo(DecodeStatus.OK);
        return message;
    }

    private StunWriter begin() {
        return new StunWriter(integrity)
                .begin(
                        ByteBuffer.allocate(512),
                        0,
                        StunMethod.messageType(StunMethod.ALLOCATE, StunMethod.CLASS_SUCCESS),
                        5L,
                        6);
    }

    @Test
    void plainAndXorAddressesOfBothFamiliesDecodeToWhatWasWritten() {
        InetSocketAddress v4 = new InetSocketAddress("192.0.2.44", 1234);
        InetSocketAddress v6 = new InetSocketAddress("2001:db8::44", 65535);
        StunMessage m = roundTrip(begin().addPlainAddress(StunAttribute.MAPPED_ADDRESS, v4)
                .addPlainAddress(StunAttribute.ALTERNATE_SERVER, v6)
                .addXorAddress(StunAttribute.XOR_RELAYED_ADDRESS, v4)
                .addXorAddress(StunAttribute.XOR_RELAYED_ADDRESS, v6));
        assertThat(m.plainAddress(m.indexOf(StunAttribute.MAPPED_ADDRESS))).isEqualTo(v4);
        assertThat(m.plainAddress(m.indexOf(StunAttribute.ALTERNATE_SERVER))).isEqualTo(v6);
        int first = m.indexOf(StunAttribute.XOR_RELAYED_ADDRESS);
        assertThat(m.xorAddress(first)).isEqualTo(v4);
        assertThat(m.xorAddress(m.indexOf(StunAttribute.XOR_RELAYED_ADDRESS, first + 1)))
                .isEqualTo(v6);
    }

    @Test
    void errorCodesUnknownAttributesAndNumbersDecodeToWhatWasWritten() {
        StunMessage m = roundTrip(begin().addErrorCode(438, "Stale Nonce")
                .addUnknownAttributes(new int[] {0x7F01, 0x001A}, 2)
                .addU32(StunAttribute.LIFETIME, 3600)
                .addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                .addAddressErrorCode(2, 440, "Address Family not Supported")
                .addString(StunAttribute.SOFTWARE, "Turnpike")
                .addMessageIntegrity(new byte[16])
                .addFingerprint());
        assertThat(m.errorCode()).isEqualTo(438);
        int unknown = m.indexOf(StunAttribute.UNKNOWN_ATTRIBUTES);
        assertThat(m.valueLength(unknown)).isEqualTo(4);
        assertThat(m.buffer().getShort(m.valueOffset(unknown) + 2)).isEqualTo((short) 0x001A);
        assertThat(m.u32Value(StunAttribute.LIFETIME, -1)).isEqualTo(3600);
        assertThat(m.firstByte(StunAttribute.REQUESTED_TRANSPORT)).isEqualTo(17);
        assertThat(m.string(StunAttribute.SOFTWARE)).isEqualTo("Turnpike");
        assertThat(integrity.verifySha1(m, new byte[16])).isTrue();
        assertThat(integrity.verifyFingerprint(m)).isTrue();
    }

    @Test
    void channelDataHeadersRoundTripAndRefuseAClaimLongerThanTheDatagram() {
        ByteBuffer buffer = ByteBuffer.allocate(16);
        ChannelData.writeHeader(buffer, 0, 0x4ABC, 5);
        assertThat(ChannelData.looksLikeChannelData(buffer, 0, 9)).isTrue();
        assertThat(ChannelData.channelNumber(buffer, 0)).isEqualTo(0x4ABC);
        assertThat(ChannelData.payloadLength(buffer, 0, 9)).isEqualTo(5);
        assertThat(ChannelData.payloadLength(buffer, 0, 8)).isEqualTo(-1);
    }
}
