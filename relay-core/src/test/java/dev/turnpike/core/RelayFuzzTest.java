package dev.turnpike.core;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.turnpike.core.auth.NonceIssuer;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Coverage-guided fuzzing (Jazzer) of the decoder and of the core. {@code ./mvnw verify} replays the checked-in
 * corpus ({@code src/test/resources/dev/turnpike/core/RelayFuzzTestInputs/}) and fuzzes the core for a short
 * bounded time; a long run is a documented command (docs/security.md) whose findings land in that corpus.
 */
class RelayFuzzTest {
    private static final InetSocketAddress[] CLIENTS = {
        Harness.CLIENT, Harness.CLIENT2, new InetSocketAddress(Harness.ip("2001:db8:1::7"), 40000)
    };
    private static final InetSocketAddress[] PEERS = {
        Harness.PEER, Harness.PEER2, Harness.PEER6, new InetSocketAddress(Harness.ip("127.0.0.1"), 22)
    };
    private static final int[] METHODS = {
        StunMethod.ALLOCATE,
        StunMethod.REFRESH,
        StunMethod.CREATE_PERMISSION,
        StunMethod.CHANNEL_BIND,
        StunMethod.BINDING
    };
    private static final int[] ATTRIBUTES = {
        StunAttribute.REQUESTED_TRANSPORT,
        StunAttribute.LIFETIME,
        StunAttribute.XOR_PEER_ADDRESS,
        StunAttribute.CHANNEL_NUMBER,
        StunAttribute.DATA,
        StunAttribute.EVEN_PORT,
        StunAttribute.RESERVATION_TOKEN,
        StunAttribute.REQUESTED_ADDRESS_FAMILY,
        StunAttribute.ADDITIONAL_ADDRESS_FAMILY,
        StunAttribute.DONT_FRAGMENT,
        StunAttribute.PASSWORD_ALGORITHM,
        StunAttribute.PASSWORD_ALGORITHMS,
        StunAttribute.USERHASH,
        StunAttribute.SOFTWARE,
        StunAttribute.FINGERPRINT,
        StunAttribute.MESSAGE_INTEGRITY
    };

    private final StunMessage message = new StunMessage();

    /** Any bytes give a decode status, never an exception; a message that decodes reads back within bounds. */
    @FuzzTest(maxDuration = "5s")
    void anyBytesDecodeToAStatus(byte[] data) {
        ByteBuffer buffer = ByteBuffer.wrap(data);
        if (message.wrap(buffer, 0, data.length) == DecodeStatus.OK) {
            for (int i = message.indexOf(StunAttribute.XOR_PEER_ADDRESS); i >= 0; ) {
                message.xorAddress(i);
                i = message.indexOf(StunAttribute.XOR_PEER_ADDRESS, i + 1);
            }
            message.string(StunAttribute.USERNAME);
            message.errorCode();
        }
    }

    /**
     * A sequence of inputs to one relay: raw datagrams, requests signed with a valid nonce around fuzzed
     * attributes (so the fuzzer gets past authentication), ChannelData, peers' datagrams, time passing. Every
     * input must keep the invariants in {@link CoreInvariants}.
     */
    @FuzzTest(maxDuration = "30s")
    void anySequenceKeepsTheCoreConsistent(FuzzedDataProvider data) {
        Harness h = new Harness(
                b -> b.relayIpv6(Harness.RELAY_IPV6, null).quotas(3, 2, 2).perAllocation(2, 2));
        NonceIssuer nonces = new NonceIssuer(new byte[32], 600); // the harness relay's nonce key
        for (int step = 0; step < 64 && data.remainingBytes() > 0; step++) {
            InetSocketAddress client = CLIENTS[data.consumeInt(0, CLIENTS.length - 1)];
            switch (data.consumeInt(0, 4)) {
                case 0 -> CoreInvariants.fromClient(h, client, data.consumeBytes(data.consumeInt(0, 4096)));
                case 1 -> {
                    Req request = Req.request(METHODS[data.consumeInt(0, METHODS.length - 1)]);
                    for (int n = data.consumeInt(0, 6); n > 0; n--) {
                        int type = data.consumeBoolean()
                                ? ATTRIBUTES[data.consumeInt(0, ATTRIBUTES.length - 1)]
                                : data.consumeInt(0, 0xFFFF);
                        byte[] value = data.consumeBytes(data.consumeInt(0, 64));
                        request.with(w -> w.addBytes(type, value));
                    }
                    if (data.consumeBoolean()) {
                        request.auth(Harness.USER, Harness.REALM, nonces.issue(client, h.nowNs), Harness.KEY);
                    }
                    CoreInvariants.fromClient(h, client, request.bytes());
                }
                case 2 -> {
                    int payload = data.consumeInt(0, 1500);
                    ByteBuffer b = ByteBuffer.allocate(4 + payload);
                    b.putShort((short) data.consumeInt(0x4000, 0x4002)).putShort((short) data.consumeInt(0, 0xFFFF));
                    CoreInvariants.fromClient(h, client, b.array());
                }
                case 3 ->
                    CoreInvariants.fromPeer(
                            h,
                            data.consumeInt(0, 7),
                            PEERS[data.consumeInt(0, PEERS.length - 1)],
                            data.consumeBytes(data.consumeInt(0, 1500)));
                default -> {
                    h.epochSeconds += data.consumeInt(-3_600, 3_600);
                    h.advanceSeconds(data.consumeInt(0, 700));
                }
            }
        }
        CoreInvariants.nothingLeftOpenInTheEnd(h, 3);
    }
}
