package dev.turnpike.daemon.dtls;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import java.nio.ByteBuffer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Telling a DTLS handshake's start from anything else, statelessly, and rebuilding the first ClientHello. */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class ClientHelloTest {
    /** A DTLS ClientHello as RFC 6347 draws it: {@code cookie} bytes of cookie, record sequence {@code sequence}. */
    static byte[] clientHello(int version, byte[] cookie, int messageSeq, long sequence) {
        ByteBuffer body = ByteBuffer.allocate(2 + 32 + 1 + 1 + cookie.length + 4 + 2 + 6);
        body.putShort((short) version).put(new byte[32]).put((byte) 0); // random, no session id
        body.put((byte) cookie.length).put(cookie);
        body.putShort((short) 2).putShort((short) 0xC02B); // one cipher suite
        body.put((byte) 1).put((byte) 0); // null compression
        body.putShort((short) 4).putShort((short) 0x0017).putShort((short) 0); // extended master secret
        int length = body.position();
        ByteBuffer d = ByteBuffer.allocate(13 + 12 + length);
        d.put((byte) 22).putShort((short) 0xFEFD).putShort((short) 0);
        d.putShort((short) (sequence >>> 32)).putInt((int) sequence);
        d.putShort((short) (12 + length));
        d.put((byte) 1).put((byte) 0).putShort((short) length); // type, 24-bit length
        d.putShort((short) messageSeq);
        d.put((byte) 0).putShort((short) 0); // fragment offset 0
        d.put((byte) 0).putShort((short) length); // fragment length: the whole message
        d.put(body.flip());
        return d.array();
    }

    private static int classify(byte[] bytes) {
        return ClientHello.classify(ByteBuffer.wrap(bytes));
    }

    @Test
    void aClientHelloIsToldWithAndWithoutACookieAndADtls10OneApart() {
        assertThat(classify(clientHello(0xFEFD, new byte[0], 0, 0))).isEqualTo(ClientHello.WITHOUT_COOKIE);
        assertThat(classify(clientHello(0xFEFD, new byte[32], 1, 1))).isEqualTo(ClientHello.WITH_COOKIE);
        assertThat(classify(clientHello(0xFEFF, new byte[0], 0, 0))).isEqualTo(ClientHello.TOO_OLD);
    }

    @Test
    void emptyCutAndOtherRecordsAreNoClientHello() {
        byte[] hello = clientHello(0xFEFD, new byte[20], 1, 1);
        assertThat(classify(new byte[0])).isEqualTo(ClientHello.NOT_CLIENT_HELLO);
        for (int cut = 0; cut < hello.length; cut++) {
            assertThat(classify(java.util.Arrays.copyOf(hello, cut)))
                    .as("the first %d bytes", cut)
                    .isEqualTo(ClientHello.NOT_CLIENT_HELLO);
        }
        byte[] application = hello.clone();
        application[0] = 23; // application data: a session's, not a handshake's start
        assertThat(classify(application)).isEqualTo(ClientHello.NOT_CLIENT_HELLO);
        byte[] epochOne = hello.clone();
        epochOne[4] = 1;
        assertThat(classify(epochOne)).isEqualTo(ClientHello.NOT_CLIENT_HELLO);
        byte[] stun = new byte[20];
        stun[0] = 0x00;
        stun[1] = 0x01; // a Binding request sent to the DTLS port
        assertThat(classify(stun)).isEqualTo(ClientHello.NOT_CLIENT_HELLO);
    }

    @Test
    void theLargestCookieAndALargestDatagramAreRead() {
        assertThat(classify(clientHello(0xFEFD, new byte[255], 1, 1))).isEqualTo(ClientHello.WITH_COOKIE);
        byte[] large = new byte[65_507];
        byte[] hello = clientHello(0xFEFD, new byte[0], 0, 0);
        System.arraycopy(hello, 0, large, 0, hello.length); // a ClientHello, then junk to a datagram's limit
        assertThat(classify(large)).isEqualTo(ClientHello.WITHOUT_COOKIE);
    }

    @Test
    void theFirstClientHelloIsTheSecondWithoutItsCookieOneRecordEarlierWithMessageSeqZero() {
        byte[] first = clientHello(0xFEFD, new byte[0], 0, 6);
        byte[] second = clientHello(0xFEFD, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 7);
        ByteBuffer rebuilt = ClientHello.firstOf(ByteBuffer.wrap(second));
        assertThat(rebuilt).isNotNull();
        byte[] bytes = new byte[rebuilt.remaining()];
        rebuilt.get(bytes);
        assertThat(bytes).isEqualTo(first);
    }

    @Test
    void theSameHelloAgainIsToldFromANewHandshakeByItsRandom() {
        byte[] hello = clientHello(0xFEFD, new byte[8], 1, 1);
        byte[] random = ClientHello.random(ByteBuffer.wrap(hello));
        assertThat(ClientHello.hasRandom(ByteBuffer.wrap(hello), random)).isTrue();
        byte[] again = clientHello(0xFEFD, new byte[8], 1, 2); // retransmitted: a later record, the same random
        assertThat(ClientHello.hasRandom(ByteBuffer.wrap(again), random)).isTrue();
        byte[] fresh = hello.clone();
        fresh[13 + 12 + 2 + 5] ^= 1; // a new handshake: another random
        assertThat(ClientHello.hasRandom(ByteBuffer.wrap(fresh), random)).isFalse();
        assertThat(ClientHello.hasRandom(ByteBuffer.wrap(hello), null)).isFalse();
    }

    @Test
    void aFragmentIsNotRebuilt() {
        byte[] fragment = clientHello(0xFEFD, new byte[8], 1, 1);
        fragment[13 + 11] -= 1; // the fragment is one byte short of the message
        assertThat(ClientHello.firstOf(ByteBuffer.wrap(fragment))).isNull();
    }

    @Test
    void theAlertNamesTheProtocolVersionInTheClientsRecord() {
        byte[] old = clientHello(0xFEFF, new byte[0], 0, 3);
        old[1] = (byte) 0xFE;
        old[2] = (byte) 0xFF;
        ByteBuffer out = ByteBuffer.allocate(64);
        ClientHello.protocolVersionAlert(ByteBuffer.wrap(old), out);
        assertThat(out.remaining()).isEqualTo(15);
        assertThat(out.get(0)).isEqualTo((byte) 21);
        assertThat(out.getShort(1) & 0xFFFF).isEqualTo(0xFEFF);
        assertThat(out.getInt(7)).isEqualTo(3);
        assertThat(out.get(13)).isEqualTo((byte) 2);
        assertThat(out.get(14)).isEqualTo((byte) 70);
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(500);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void arbitraryDatagramsAreClassifiedWithoutAnExceptionAndRebuiltOnlyWhole(long seed) {
        Gen g = new Gen(seed);
        byte[] bytes = g.bool() ? g.bytes(g.between(0, 400)) : clientHello(0xFEFD, g.bytes(g.between(0, 40)), 1, 9);
        if (g.bool() && bytes.length > 0) {
            bytes[g.between(0, bytes.length - 1)] = (byte) g.between(0, 255); // one byte changed anywhere
        }
        ByteBuffer d = ByteBuffer.wrap(bytes);
        int kind = ClientHello.classify(d);
        assertThat(kind).isBetween(ClientHello.NOT_CLIENT_HELLO, ClientHello.TOO_OLD);
        if (kind == ClientHello.WITH_COOKIE) {
            ByteBuffer first = ClientHello.firstOf(d);
            if (first != null) {
                assertThat(ClientHello.classify(first)).isIn(ClientHello.WITHOUT_COOKIE, ClientHello.NOT_CLIENT_HELLO);
            }
        }
        assertThat(d.position()).isZero();
    }
}
