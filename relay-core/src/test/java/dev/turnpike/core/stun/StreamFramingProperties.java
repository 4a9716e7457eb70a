package dev.turnpike.core.stun;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** Messages written one after another on a stream come out whole, however the stream cuts them. */
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

    @Provide
    Arbitrary<List<byte[]>> messages() {
        return Arbitraries.integers()
                .between(0, 70_000)
                .flatMap(n ->
                        Arbitraries.of(true, false).map(stun -> message(stun, Math.min(n, stun ? 65_532 : 65_535))))
                .list()
                .ofMinSize(1)
                .ofMaxSize(6);
    }

    @Property(tries = 200)
    void messagesCutAnywhereComeOutWholeAndInOrder(
            @ForAll("messages") List<byte[]> sent,
            @ForAll @Size(max = 8) List<@IntRange(min = 1, max = 70_000) Integer> cuts) {
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

    @Property
    void aFirstByteOfTwoHighBitsCannotBeFramed(@ForAll @IntRange(min = 0x80, max = 0xFF) int first) {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {(byte) first, 0, 0, 8, 0, 0, 0, 0});
        assertThat(StreamFraming.frame(b, 0, 8)).isEqualTo(StreamFraming.MALFORMED);
    }

    @Example
    void aStunLengthThatIsNoMultipleOfFourCannotBeFramedAndAShortHeaderNeedsMore() {
        ByteBuffer b = ByteBuffer.wrap(new byte[] {0, 1, 0, 6, 0x21, 0x12, (byte) 0xA4, 0x42});
        assertThat(StreamFraming.frame(b, 0, 8)).isEqualTo(StreamFraming.MALFORMED);
        assertThat(StreamFraming.frame(b, 0, 3)).isEqualTo(StreamFraming.NEED_MORE);
        assertThat(StreamFraming.frame(ByteBuffer.allocate(0), 0, 0)).isEqualTo(StreamFraming.NEED_MORE);
    }

    @Example
    void theLargestMessagesFitTheReadBuffer() {
        assertThat(message(true, 65_532).length).isEqualTo(StreamFraming.MAX_STUN);
        assertThat(message(false, 65_535).length + 1).isEqualTo(StreamFraming.MAX_CHANNEL_DATA);
        assertThat(StreamFraming.MAX_MESSAGE).isGreaterThanOrEqualTo(StreamFraming.MAX_CHANNEL_DATA);
    }
}
