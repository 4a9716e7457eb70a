package dev.turnpike.daemon.stream;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import dev.turnpike.core.stun.StunMessage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Telling TURN from a web client on a shared TLS port by the first bytes after the handshake. */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class FirstBytesTest {
    private static final byte[] BINDING = HexFormat.of().parseHex("000100002112a442" + "0102030405060708090a0b0c");

    private static int classify(byte[] bytes, int filled) {
        ByteBuffer in = ByteBuffer.allocate(Math.max(bytes.length, 1));
        in.put(0, bytes, 0, bytes.length);
        return FirstBytes.classify(in, filled);
    }

    @Test
    void nothingReadYetWaits() {
        assertThat(classify(new byte[0], 0)).isEqualTo(FirstBytes.NEED_MORE);
    }

    @Test
    void aStunHeaderIsTurnOnceEightBytesHaveComeAndWaitsBefore() {
        for (int filled = 0; filled < 8; filled++) {
            assertThat(classify(BINDING, filled)).as("%d bytes", filled).isEqualTo(FirstBytes.NEED_MORE);
        }
        for (int filled = 8; filled <= BINDING.length; filled++) {
            assertThat(classify(BINDING, filled)).as("%d bytes", filled).isEqualTo(FirstBytes.TURN);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "GET / HTTP/1.1\r\n",
                "HEAD / HTTP/1.1\r\n",
                "POST /x HTTP/1.1\r\n",
                "PUT /x HTTP/1.1\r\n",
                "DELETE /x HTTP/1.1\r\n",
                "OPTIONS * HTTP/1.1\r\n",
                "CONNECT a:443 HTTP/1.1\r\n",
                "PATCH /x HTTP/1.1\r\n",
                "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
            })
    void anyHttpRequestIsTheWebsFromItsFirstByteThoughMostLookLikeChannelData(String request) {
        byte[] bytes = request.getBytes(StandardCharsets.US_ASCII);
        for (int filled = 1; filled <= bytes.length; filled++) {
            assertThat(classify(bytes, filled)).as("%d bytes", filled).isEqualTo(FirstBytes.WEB);
        }
    }

    @Test
    void aStunLikeFirstByteWithoutTheMagicCookieIsTheWebsAtTheFirstWrongCookieByte() {
        byte[] noCookie = BINDING.clone();
        noCookie[6] = 0;
        assertThat(classify(noCookie, 6)).isEqualTo(FirstBytes.NEED_MORE);
        assertThat(classify(noCookie, 7)).isEqualTo(FirstBytes.WEB);
        assertThat(classify(noCookie, noCookie.length)).isEqualTo(FirstBytes.WEB);
    }

    @Test
    void theLargestTlsRecordsWorthOfBytesIsDecidedByItsFirstEight() {
        byte[] large = new byte[16_384];
        System.arraycopy(BINDING, 0, large, 0, BINDING.length);
        assertThat(classify(large, large.length)).isEqualTo(FirstBytes.TURN);
        large[0] = (byte) 0x40; // ChannelData's first byte: never a connection's first message
        assertThat(classify(large, large.length)).isEqualTo(FirstBytes.WEB);
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(500);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aDecisionNeverChangesAsMoreBytesArriveAndEightBytesAlwaysDecideAsStunWould(long seed) {
        Gen g = new Gen(seed);
        byte[] bytes = g.bytes(g.between(0, 40));
        if (bytes.length >= 8 && g.bool()) {
            System.arraycopy(BINDING, 0, bytes, 0, g.between(1, 8)); // often a STUN-like start, cut anywhere
        }
        int first = FirstBytes.NEED_MORE;
        for (int filled = 0; filled <= bytes.length; filled++) {
            int now = classify(bytes, filled);
            if (first != FirstBytes.NEED_MORE) {
                assertThat(now).as("%d bytes", filled).isEqualTo(first);
            }
            first = now;
            if (filled >= 8) {
                boolean stun = StunMessage.startsLikeStun(ByteBuffer.wrap(bytes), 0);
                assertThat(now).isEqualTo(stun ? FirstBytes.TURN : FirstBytes.WEB);
            }
        }
    }
}
