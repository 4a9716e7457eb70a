package dev.turnpike.core.stun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Messages written one after another on a stream come out whole, however the stream cuts them. */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class StreamFramingProperties {
    /** A STUN message of {@code bodyLength} bytes of body, or ChannelData with a payload of that many. */
    private static byte[] message(boolean stun, int bodyLength) {
        int length = stun ? bodyLength & ~3 : bodyLength;
        byte[] m = new byte[(stun ? 20 : 4) + length];
        if (stun) {
            m[0] = 0x00;
            m[1] = 0x01;
        } else {
            m[0] = 0x40;
            m[1] = (byte) (bodyLength % 251);
        }
        m[2] = (byte) (length >> 8);
        m[3] = (byte) length;
        for (int i = 4; i < m.length; i++) {
            m[i] = (byte) (i * 31 + length);
        }
        return m;
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(200);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void messagesCutAnywhereComeOutWholeAndInOrder(long seed) {
        Gen g = new Gen(seed);
        // 1 to 6 messages of either kind, up to the largest, and up to 8 cuts where the stream's pieces end
        List<byte[]> sent = g.list(1, 6, () -> {
            int n = g.between(0, 70_000);
            boolean stun = g.bool();
            return message(stun, Math.min(n, stun ? 65_532 : 65_535));
        });
        List<Integer> cuts = g.list(0, 8, () -> g.between(1, 70_000));
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        for (byte[] m : sent) {
            stream.writeBytes(m);
            if ((m[0] & 0xC0) == 0x40) {
                stream.writeBytes(new byte[StreamFraming.channelDataPadding(m.length)]);
            }
        }
        byte[] bytes = stream.toByteArray();
        // the reader's buffer, filled as the stream's pieces arrive
        ByteBuffer buffer = ByteBuffer.allocate(StreamFraming.MAX_MESSAGE);
        List<byte[]> received = new ArrayList<>();
        int position = 0;
        int cut = 0;
        while (position < bytes.length) {
            int piece = Math.min(bytes.length - position, cut < cuts.size() ? cuts.get(cut++) : bytes.length);
            piece = Math.min(piece, buffer.remaining());
            buffer.put(bytes, position, piece);
            position += piece;
            buffer.flip();
            while (true) {
                int frame = StreamFraming.frame(buffer, buffer.position(), buffer.remaining());
                assertThat(frame).isNotEqualTo(StreamFraming.MALFORMED);
                if (frame == StreamFraming.NEED_MORE) {
                    break;
                }
                byte[] m = new byte[StreamFraming.messageLength(buffer, buffer.position())];
                buffer.get(buffer.position(), m);
                received.add(m);
                buffer.position(buffer.position() + frame);
            }
            buffer.compact();
        }
        assertThat(received).hasSize(sent.size());
        for (int i = 0; i < sent.size(); i++) {
            assertThat(received.get(i)).isEqualTo(sent.get(i));
        }
        assertThat(buffer.position()).as("nothing left over").isZero();
    }

    @Test
    void aFirstByteOfTwoHighBitsCannotBeFramed() {
        for (int first = 0x80; first <= 0xFF; first++) {
            ByteBuffer b = ByteBuffer.wrap(new byte[] {(byte) first, 0, 0, 8, 0, 0, 0, 0});
            assertThat(StreamFraming.frame(b, 0, 8))
                    .as("first byte %02x", first)
                    .isEqualTo(StreamFraming.MALFORMED);
        }
    }

    @Test
    void aStunLengthThatIsNoMultipleOfFourCannotBeFramedAndAShortHeaderNeedsMore() {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {0, 1, 0, 6, 0x21, 0x12, (byte) 0xA4, 0x42});
        assertThat(StreamFraming.frame(b, 0, 8)).isEqualTo(StreamFraming.MALFORMED);
        assertThat(StreamFraming.frame(b, 0, 3)).isEqualTo(StreamFraming.NEED_MORE);
        assertThat(StreamFraming.frame(ByteBuffer.allocate(0), 0, 0)).isEqualTo(StreamFraming.NEED_MORE);
    }

    @Test
    void theLargestMessagesFitTheReadBuffer() {
        assertThat(message(true, 65_532).length).isEqualTo(StreamFraming.MAX_STUN);
        assertThat(message(false, 65_535).length + 1).isEqualTo(StreamFraming.MAX_CHANNEL_DATA);
        assertThat(StreamFraming.MAX_MESSAGE).isGreaterThanOrEqualTo(StreamFraming.MAX_CHANNEL_DATA);
    }
}
