package dev.turnpike.core.stun;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Feeds over a million random and mutated datagrams to the decoder. Each datagram sits in a buffer that ends
 * exactly where the datagram ends, so any read past its end throws and fails the test; the decoder itself
 * may only answer a {@link DecodeStatus}. After OK, every accessor is exercised too.
 */
class DecoderRobustnessTest {
    private static final int ROUNDS = 1_100_000;

    private final StunMessage message = new StunMessage();
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final int[] unknown = new int[16];

    @Test
    void anyBytesGiveAStatusAndNoReadPassesTheDatagramsEnd() {
        List<byte[]> seeds = seeds();
        SplittableRandom random = new SplittableRandom(0x7E57_5EEDL);
        int ok = 0;
        int[] statuses = new int[DecodeStatus.values().length];
        for (int round = 0; round < ROUNDS; round++) {
            byte[] datagram =
                    round % 4 == 0 ? randomBytes(random) : mutate(seeds.get(random.nextInt(seeds.size())), random);
            ByteBuffer buffer = ByteBuffer.allocate(datagram.length);
            buffer.put(0, datagram);
            DecodeStatus status = message.wrap(buffer, 0, datagram.length);
            statuses[status.ordinal()]++;
            if (status == DecodeStatus.OK) {
                ok++;
                exerciseAccessors();
            }
            if (ChannelData.looksLikeChannelData(buffer, 0, datagram.length)) {
                int payload = ChannelData.payloadLength(buffer, 0, datagram.length);
                assertThat(payload).isLessThanOrEqualTo(datagram.length - ChannelData.HEADER_LENGTH);
            }
        }
        // The mutations must reach deep into the decoder, not only bounce off the header checks.
        assertThat(ok).isGreaterThan(ROUNDS / 10);
        for (DecodeStatus status : DecodeStatus.values()) {
            assertThat(statuses[status.ordinal()]).as(status.name()).isPositive();
        }
    }

    private void exerciseAccessors() {
        message.method();
        message.messageClass();
        message.transactionIdHigh();
        message.transactionIdLow();
        message.unknownComprehensionRequired(unknown);
        message.errorCode();
        message.u32Value(StunAttribute.LIFETIME, -1);
        message.firstByte(StunAttribute.REQUESTED_TRANSPORT);
        message.string(StunAttribute.USERNAME);
        for (int i = 0; i < message.attributeCount(); i++) {
            message.bytes(i);
            switch (message.attributeType(i)) {
                case StunAttribute.XOR_MAPPED_ADDRESS,
                        StunAttribute.XOR_PEER_ADDRESS,
                        StunAttribute.XOR_RELAYED_ADDRESS -> message.xorAddress(i);
                case StunAttribute.MAPPED_ADDRESS, StunAttribute.ALTERNATE_SERVER -> message.plainAddress(i);
                default -> {}
            }
        }
        integrity.verifySha1(message, new byte[16]);
        integrity.verifySha256(message, new byte[32]);
        integrity.verifyFingerprint(message);
    }

    private static byte[] randomBytes(SplittableRandom random) {
        byte[] bytes = new byte[random.nextInt(0, 200)];
        random.nextBytes(bytes);
        if (bytes.length >= 8 && random.nextBoolean()) {
            // make the header plausible so the attribute walk is reached
            bytes[0] &= 0x3F;
            bytes[4] = 0x21;
            bytes[5] = 0x12;
            bytes[6] = (byte) 0xA4;
            bytes[7] = 0x42;
            int body = (bytes.length - 20) & ~3;
            if (body >= 0 && random.nextBoolean()) {
                bytes[2] = (byte) (body >>> 8);
                bytes[3] = (byte) body;
            }
        }
        return bytes;
    }

    private static byte[] mutate(byte[] seed, SplittableRandom random) {
        byte[] bytes = seed.clone();
        int mutations = random.nextInt(1, 4);
        for (int m = 0; m < mutations; m++) {
            switch (random.nextInt(6)) {
                case 0 -> bytes[random.nextInt(bytes.length)] ^= (byte) (1 << random.nextInt(8));
                case 1 -> bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                case 2 -> bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
                case 3 -> {
                    // rewrite an attribute length field somewhere past the header
                    if (bytes.length > 24) {
                        int at = 20 + 4 * random.nextInt(Math.max(1, (bytes.length - 24) / 4));
                        bytes[at + 2] = (byte) random.nextInt(256);
                        bytes[at + 3] = (byte) random.nextInt(256);
                    }
                }
                case 4 -> bytes = java.util.Arrays.copyOf(bytes, bytes.length + random.nextInt(1, 9));
                default -> {
                    if (bytes.length > 4) {
                        int body = random.nextInt(0, bytes.length + 8);
                        bytes[2] = (byte) (body >>> 8);
                        bytes[3] = (byte) body;
                    }
                }
            }
            if (bytes.length == 0) {
                break;
            }
        }
        return bytes;
    }

    private List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>(TestVectors.load("rfc5769.txt").values());
        seeds.addAll(TestVectors.load("rfc8489-b1.txt").values());
        // An Allocate-shaped request with every address family and the TURN attributes.
        StunWriter writer = new StunWriter(integrity);
        ByteBuffer buffer = ByteBuffer.allocate(512);
        writer.begin(buffer, 0, StunMethod.messageType(StunMethod.ALLOCATE, StunMethod.CLASS_REQUEST), 1L, 2)
                .addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17)
                .addU32(StunAttribute.LIFETIME, 600)
                .addByteAndReserved(StunAttribute.REQUESTED_ADDRESS_FAMILY, 2)
                .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, new java.net.InetSocketAddress("2001:db8::1", 9))
                .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, new java.net.InetSocketAddress("192.0.2.7", 9))
                .addErrorCode(438, "Stale Nonce")
                .addString(StunAttribute.USERNAME, "alice")
                .addMessageIntegrity(new byte[16])
                .addMessageIntegritySha256(new byte[32])
                .addFingerprint();
        seeds.add(writer.toBytes());
        // A message with more attributes than the decoder indexes.
        writer.begin(buffer, 0, StunMethod.messageType(StunMethod.BINDING, StunMethod.CLASS_REQUEST), 3L, 4);
        for (int i = 0; i < StunMessage.MAX_ATTRIBUTES + 2; i++) {
            writer.addEmpty(StunAttribute.SOFTWARE);
        }
        seeds.add(writer.toBytes());
        return seeds;
    }
}
