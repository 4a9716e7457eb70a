package dev.turnpike.benchmarks.jmh;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The STUN codec on its own: decoding an Allocate, encoding a Data indication, verifying MESSAGE-INTEGRITY. */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
    private final StunMessage message = new StunMessage();
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final StunWriter writer = new StunWriter(integrity);
    private final ByteBuffer output = ByteBuffer.allocateDirect(2048);
    private final InetSocketAddress peer = new InetSocketAddress("8.8.8.8", 5000);
    private final byte[] payload = new byte[160];
    private ByteBuffer allocate;
    private int allocateLength;

    @Setup
    public void setUp() {
        byte[] bytes = new Fixture().allocateRequest("obMatJos2wAAA00000000000000000000000000000000");
        allocate = Fixture.received(bytes);
        allocateLength = bytes.length;
    }

    @Benchmark
    public int decodeAllocate() {
        if (message.wrap(allocate, Fixture.HEADROOM, allocateLength) != DecodeStatus.OK) {
            throw new IllegalStateException();
        }
        return message.firstByte(StunAttribute.REQUESTED_TRANSPORT)
                + (int) message.u32Value(StunAttribute.LIFETIME, 0)
                + message.indexOf(StunAttribute.NONCE);
    }

    @Benchmark
    public int encodeDataIndication() {
        writer.begin(output, 0, StunMethod.messageType(StunMethod.DATA, StunMethod.CLASS_INDICATION), 1L, 2)
                .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer)
                .addBytes(StunAttribute.DATA, payload);
        return writer.length();
    }

    @Benchmark
    public boolean verifyMessageIntegrity() {
        message.wrap(allocate, Fixture.HEADROOM, allocateLength);
        return integrity.verifySha1(message, Fixture.KEY);
    }
}
