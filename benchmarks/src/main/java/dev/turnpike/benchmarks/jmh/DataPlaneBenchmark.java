package dev.turnpike.benchmarks.jmh;

import dev.turnpike.core.Outbox;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One relayed packet through the sans-IO core, each way and each framing. The target is 0 B/op with
 * {@code -prof gc}: the data plane must not allocate. Each call leaves the buffer as it found it apart from the
 * headroom and padding the core writes, so the same datagram is replayed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DataPlaneBenchmark {
    @Param({"160"})
    int payloadLength;

    private Fixture fixture;
    private Outbox out;
    private ByteBuffer channelData;
    private int channelDataLength;
    private ByteBuffer sendIndication;
    private int sendIndicationLength;
    private ByteBuffer peerPayload;

    @Setup
    public void setUp() {
        fixture = new Fixture();
        out = fixture.out;
        byte[] cd = fixture.channelData(payloadLength);
        channelData = Fixture.received(cd);
        channelDataLength = cd.length;
        byte[] send = fixture.sendIndication(payloadLength);
        sendIndication = Fixture.received(send);
        sendIndicationLength = send.length;
        peerPayload = Fixture.received(new byte[payloadLength]);
    }

    /** ChannelData from the client, relayed to the channel's peer. */
    @Benchmark
    public int channelDataClientToPeer() {
        out.clear();
        fixture.relay.onClientDatagram(
                fixture.nowNs,
                fixture.epochSeconds,
                0,
                fixture.client,
                channelData,
                Fixture.HEADROOM,
                channelDataLength,
                out);
        return out.length();
    }

    /** A peer's datagram on a bound channel, framed as ChannelData in place. */
    @Benchmark
    public int peerToClientChannelData() {
        out.clear();
        fixture.relay.onPeerDatagram(
                fixture.nowNs,
                fixture.endpoint(),
                fixture.channelPeer,
                peerPayload,
                Fixture.HEADROOM,
                payloadLength,
                out);
        return out.length();
    }

    /** A Send indication from the client, relayed to a permitted peer. */
    @Benchmark
    public int sendIndicationClientToPeer() {
        out.clear();
        fixture.relay.onClientDatagram(
                fixture.nowNs,
                fixture.epochSeconds,
                0,
                fixture.client,
                sendIndication,
                Fixture.HEADROOM,
                sendIndicationLength,
                out);
        return out.length();
    }

    /** A permitted peer's datagram without a channel, framed as a Data indication in place. */
    @Benchmark
    public int peerToClientDataIndication() {
        out.clear();
        fixture.relay.onPeerDatagram(
                fixture.nowNs,
                fixture.endpoint(),
                fixture.indicationPeer,
                peerPayload,
                Fixture.HEADROOM,
                payloadLength,
                out);
        return out.length();
    }
}
