package dev.turnpike.core.stun;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.LongTermKey;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** RFC 5769 and RFC 8489 Appendix B.1 vectors: parse, verify, re-encode byte for byte. */
class StunVectorsTest {
    private static final Map<String, byte[]> RFC5769 = TestVectors.load("rfc5769.txt");
    private static final Map<String, byte[]> RFC8489 = TestVectors.load("rfc8489-b1.txt");
    private static final byte[] SHORT_TERM_KEY = "VOkJxbRl1RmTxUk/WvJxBt".getBytes(StandardCharsets.UTF_8);
    private static final String USERNAME = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
    private static final String PASSWORD = "The\u00ADM\u00AAtr\u2168";

    private final MessageIntegrity integrity = new MessageIntegrity();

    private StunMessage parse(byte[] bytes) {
        StunMessage message = new StunMessage();
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length + 8);
        direct.put(3, bytes); // at an odd offset, as a datagram behind headroom would be
        assertThat(message.wrap(direct, 3, bytes.length)).isEqualTo(DecodeStatus.OK);
        return message;
    }

    @Test
    void sampleRequestVerifiesWithTheShortTermKeyAndItsFingerprint() {
        StunMessage request = parse(RFC5769.get("sample-request"));
        assertThat(request.method()).isEqualTo(StunMethod.BINDING);
        assertThat(request.messageClass()).isEqualTo(StunMethod.CLASS_REQUEST);
        assertThat(request.string(StunAttribute.USERNAME)).isEqualTo("evtj:h6vY");
        assertThat(request.string(StunAttribute.SOFTWARE)).isEqualTo("STUN test client");
        assertThat(integrity.verifySha1(request, SHORT_TERM_KEY)).isTrue();
        assertThat(integrity.verifyFingerprint(request)).isTrue();
        assertThat(integrity.verifySha1(request, "wrong".getBytes(StandardCharsets.UTF_8)))
                .isFalse();
    }

    @Test
    void sampleRequestWithOneFlippedBitFailsIntegrityAndFingerprint() {
        byte[] bytes = RFC5769.get("sample-request").clone();
        bytes[30] ^= 0x01; // inside SOFTWARE
        StunMessage request = parse(bytes);
        assertThat(integrity.verifySha1(request, SHORT_TERM_KEY)).isFalse();
        assertThat(integrity.verifyFingerprint(request)).isFalse();
    }

    @Test
    void ipv4ResponseDecodesAndReEncodesByteForByte() throws Exception {
        byte[] vector = RFC5769.get("sample-ipv4-response");
        StunMessage response = parse(vector);
        InetSocketAddress mapped = response.xorAddress(response.indexOf(StunAttribute.XOR_MAPPED_ADDRESS));
        assertThat(mapped).isEqualTo(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853));
        assertThat(integrity.verifySha1(response, SHORT_TERM_KEY)).isTrue();
        assertThat(integrity.verifyFingerprint(response)).isTrue();
        assertThat(reEncode(response, mapped)).isEqualTo(vector);
    }

    @Test
    void ipv6ResponseDecodesAndReEncodesByteForByte() throws Exception {
        byte[] vector = RFC5769.get("sample-ipv6-response");
        StunMessage response = parse(vector);
        InetSocketAddress mapped = response.xorAddress(response.indexOf(StunAttribute.XOR_MAPPED_ADDRESS));
        assertThat(mapped)
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("2001:db8:1234:5678:11:2233:4455:6677"), 32853));
        assertThat(integrity.verifySha1(response, SHORT_TERM_KEY)).isTrue();
        assertThat(integrity.verifyFingerprint(response)).isTrue();
        assertThat(reEncode(response, mapped)).isEqualTo(vector);
    }

    private byte[] reEncode(StunMessage response, InetSocketAddress mapped) {
        StunWriter writer = new StunWriter(integrity).padding((byte) 0x20);
        writer.begin(ByteBuffer.allocate(200), 0, response.messageType(), response)
                .addString(StunAttribute.SOFTWARE, "test vector")
                .addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, mapped)
                .addMessageIntegrity(SHORT_TERM_KEY)
                .addFingerprint();
        return writer.toBytes();
    }

    @Test
    void longTermRequestVerifiesWithTheSaslPreppedMd5Key() {
        StunMessage request = parse(RFC5769.get("long-term-request"));
        assertThat(request.string(StunAttribute.USERNAME)).isEqualTo(USERNAME);
        assertThat(request.string(StunAttribute.REALM)).isEqualTo("example.org");
        assertThat(request.string(StunAttribute.NONCE)).isEqualTo("f//499k954d6OL34oL9FSTvy64sA");
        assertThat(request.fingerprintIndex()).isEqualTo(-1);
        byte[] key = LongTermKey.md5(USERNAME, "example.org", PASSWORD);
        assertThat(key).isEqualTo(LongTermKey.md5(USERNAME, "example.org", "TheMatrIX"));
        assertThat(integrity.verifySha1(request, key)).isTrue();
        assertThat(integrity.verifySha1(request, LongTermKey.md5(USERNAME, "example.org", "TheMatrix")))
                .isFalse();
    }

    @Test
    void rfc8489RequestCarriesTheUserHashAndVerifiesWithTheSha256Key() {
        StunMessage request = parse(RFC8489.get("rfc8489-b1-request"));
        assertThat(request.bytes(request.indexOf(StunAttribute.USERHASH)))
                .isEqualTo(LongTermKey.userHash(USERNAME, "example.org"));
        assertThat(request.string(StunAttribute.NONCE)).isEqualTo("obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
        assertThat(request.u32Value(StunAttribute.PASSWORD_ALGORITHM, -1) >>> 16)
                .isEqualTo((long) LongTermKey.ALGORITHM_SHA256);
        byte[] key = LongTermKey.sha256(USERNAME, "example.org", PASSWORD);
        assertThat(integrity.verifySha256(request, key)).isTrue();
        assertThat(integrity.verifySha256(request, LongTermKey.md5(USERNAME, "example.org", PASSWORD)))
                .isFalse();
    }

    @Test
    void bundledVectorsMatchTheSharedCopyWhenItIsPresent() throws IOException {
        // The vectors are copied into the repository so a fresh clone tests without ../shared; when the
        // shared copy is beside the clone, the two must not drift apart.
        for (String file : new String[] {"rfc5769.txt", "rfc8489-b1.txt"}) {
            for (Path shared : new Path[] {Path.of("../shared/vectors", file), Path.of("../../shared/vectors", file)}) {
                if (Files.exists(shared)) {
                    byte[] bundled;
                    try (var in = StunVectorsTest.class.getResourceAsStream("/vectors/" + file)) {
                        bundled = in.readAllBytes();
                    }
                    assertThat(bundled).as(file).isEqualTo(Files.readAllBytes(shared));
                }
            }
        }
    }
}
