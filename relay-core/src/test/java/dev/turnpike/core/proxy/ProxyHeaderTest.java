package dev.turnpike.core.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.random.Gen;
import dev.turnpike.core.random.Seeds;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** PROXY protocol v2 headers as load balancers write them, cut short, corrupted, and followed by the stream. */
@org.junit.jupiter.api.extension.ExtendWith(Seeds.NamedOnFailure.class)
class ProxyHeaderTest {
    private static final String SIGNATURE = "0d0a0d0a000d0a515549540a";

    /** HAProxy's own example: PROXY, TCP over IPv4, 192.0.2.7:40000 to 198.51.100.1:3478. */
    private static byte[] ipv4() {
        return HexFormat.of().parseHex(SIGNATURE + "21" + "11" + "000c" + "c0000207" + "c6336401" + "9c40" + "0d96");
    }

    private static byte[] ipv6WithTlv() {
        return HexFormat.of()
                .parseHex(SIGNATURE + "21" + "21" + "0029" + "20010db8000000000000000000000007"
                        + "20010db8000000000000000000000001" + "9c41" + "0d96" + "04" + "0002" + "abcd");
    }

    private static ByteBuffer withPrefix(byte[] header, int prefix) {
        ByteBuffer b = ByteBuffer.allocate(prefix + header.length + 8);
        b.put(prefix, header);
        return b;
    }

    @Test
    void anIpv4HeaderNamesTheClient() throws Exception {
        ByteBuffer b = withPrefix(ipv4(), 5);
        assertThat(ProxyHeader.length(b, 5, ipv4().length + 8)).isEqualTo(28);
        assertThat(ProxyHeader.source(b, 5))
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 40000));
    }

    @Test
    void anIpv6HeaderWithATlvNamesTheClientAndCountsTheTlv() throws Exception {
        byte[] header = ipv6WithTlv();
        ByteBuffer b = withPrefix(header, 0);
        assertThat(ProxyHeader.length(b, 0, header.length))
                .isEqualTo(header.length)
                .isEqualTo(16 + 41);
        assertThat(ProxyHeader.source(b, 0))
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("2001:db8::7"), 40001));
    }

    @Test
    void aLocalHeaderIsWholeButNamesNoClient() {
        byte[] local = HexFormat.of().parseHex(SIGNATURE + "20" + "00" + "0000");
        ByteBuffer b = withPrefix(local, 0);
        assertThat(ProxyHeader.length(b, 0, local.length)).isEqualTo(16);
        assertThat(ProxyHeader.source(b, 0)).isNull();
    }

    @Test
    void aStunMessageOrTheTextVersionIsNotAHeader() {
        ByteBuffer stun = ByteBuffer.wrap(HexFormat.of().parseHex("000100002112a442000000000000000000000000"));
        assertThat(ProxyHeader.length(stun, 0, 20)).isEqualTo(ProxyHeader.MALFORMED);
        ByteBuffer text = ByteBuffer.wrap("PROXY TCP4 192.0.2.7 198.51.100.1 40000 3478\r\n".getBytes());
        assertThat(ProxyHeader.length(text, 0, text.capacity())).isEqualTo(ProxyHeader.MALFORMED);
        assertThat(ProxyHeader.length(ByteBuffer.allocate(1), 0, 0)).isEqualTo(ProxyHeader.NEED_MORE);
    }

    @Test
    void anUnknownVersionOrCommandOrAFamilyTooShortIsRefused() {
        byte[] version1 = ipv4();
        version1[12] = 0x11;
        assertThat(ProxyHeader.length(ByteBuffer.wrap(version1), 0, version1.length))
                .isEqualTo(ProxyHeader.MALFORMED);
        byte[] shortIpv6 = ipv4();
        shortIpv6[13] = 0x21; // IPv6 with 12 bytes of addresses
        assertThat(ProxyHeader.length(ByteBuffer.wrap(shortIpv6), 0, shortIpv6.length))
                .isEqualTo(ProxyHeader.MALFORMED);
        byte[] huge = ipv4();
        huge[14] = (byte) 0xff;
        assertThat(ProxyHeader.length(ByteBuffer.wrap(huge), 0, huge.length)).isEqualTo(ProxyHeader.MALFORMED);
    }

    @Test
    void aHeaderOfTheLongestLengthIsWholeAndOneByteMoreIsRefused() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(ProxyHeader.MAX_LENGTH + 1);
        b.put(0, ipv4());
        b.putShort(14, (short) (ProxyHeader.MAX_LENGTH - 16)); // the addresses, then TLV bytes up to the limit
        assertThat(ProxyHeader.length(b, 0, ProxyHeader.MAX_LENGTH)).isEqualTo(ProxyHeader.MAX_LENGTH);
        assertThat(ProxyHeader.source(b, 0))
                .isEqualTo(new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 40000));
        b.putShort(14, (short) (ProxyHeader.MAX_LENGTH - 15));
        assertThat(ProxyHeader.length(b, 0, ProxyHeader.MAX_LENGTH + 1)).isEqualTo(ProxyHeader.MALFORMED);
    }

    @Test
    void everyPrefixOfAHeaderNeedsMoreAndNeverMisreads() {
        byte[] header = ipv6WithTlv();
        for (int cut = 0; cut <= 56; cut++) {
            int available = Math.min(cut, header.length);
            int length = ProxyHeader.length(ByteBuffer.wrap(header), 0, available);
            assertThat(length)
                    .as("the first %d bytes", available)
                    .isEqualTo(available < header.length ? ProxyHeader.NEED_MORE : header.length);
        }
    }

    static Stream<Long> seeds() {
        return Seeds.replayedAndFresh(1_000);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void arbitraryBytesAreMalformedOrNeedMoreOrAWholeHeaderWithinTheLimit(long seed) {
        Gen g = new Gen(seed);
        byte[] input = g.bytes(g.between(0, 80));
        boolean signed = g.bool();
        if (signed && input.length >= 12) {
            System.arraycopy(HexFormat.of().parseHex(SIGNATURE), 0, input, 0, 12);
            // mostly a version, command, family and length a header could have, so that whole headers, cut ones
            // and lengths past the input or the limit all come up, not only a bad command
            if (input.length >= 16 && g.weighted(1, 3) == 1) {
                input[12] = (byte) (int) g.oneOf(0x20, 0x21, 0x21);
                input[13] = (byte) (int) g.oneOf(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32);
                int rest = g.between(0, 240);
                input[14] = (byte) (rest >> 8);
                input[15] = (byte) rest;
            }
        }
        ByteBuffer b = ByteBuffer.wrap(input);
        int length = ProxyHeader.length(b, 0, input.length);
        assertThat(length == ProxyHeader.MALFORMED
                        || length == ProxyHeader.NEED_MORE
                        || (length >= 16 && length <= input.length && length <= ProxyHeader.MAX_LENGTH))
                .isTrue();
        if (length > 0) {
            ProxyHeader.source(b, 0); // reads only within the header: no exception
        }
    }

    @Test
    void aWrittenIpv4HeaderIsHaproxysExampleByteForByte() throws Exception {
        ByteBuffer b = ByteBuffer.allocate(ProxyHeader.MAX_WRITTEN);
        ProxyHeader.write(
                b,
                new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 40000),
                new InetSocketAddress(InetAddress.getByName("198.51.100.1"), 3478));
        assertThat(HexFormat.of().formatHex(b.array(), 0, b.position()))
                .isEqualTo(HexFormat.of().formatHex(ipv4()));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aWrittenHeaderReadsBackAsTheClientItNames(long seed) throws Exception {
        Gen g = new Gen(seed);
        InetSocketAddress source =
                new InetSocketAddress(InetAddress.getByAddress(g.bytes(g.bool() ? 4 : 16)), g.between(0, 65_535));
        InetSocketAddress destination =
                new InetSocketAddress(InetAddress.getByAddress(g.bytes(g.bool() ? 4 : 16)), g.between(0, 65_535));
        ByteBuffer b = ByteBuffer.allocate(ProxyHeader.MAX_WRITTEN + 4);
        ProxyHeader.write(b, source, destination);
        int written = b.position();
        assertThat(written).isBetween(28, ProxyHeader.MAX_WRITTEN);
        assertThat(ProxyHeader.length(b, 0, written + 4)).isEqualTo(written);
        InetSocketAddress read = ProxyHeader.source(b, 0);
        assertThat(read.getPort()).isEqualTo(source.getPort());
        byte[] expected = source.getAddress().getAddress();
        byte[] got = read.getAddress().getAddress();
        // an IPv4 client beside an IPv6 destination travels IPv4-mapped, which the JDK reads back as IPv4
        assertThat(got).isEqualTo(expected);
    }
}
