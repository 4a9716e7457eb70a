package dev.turnpike.benchmarks.jmh;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the once-a-second timer sweep costs the loop: every allocation is visited (expiry, its permissions and
 * channels, the retransmission window). Each measurement is 100 sweeps, one a second of relay time, over a fresh
 * relay with that many allocations, each with a channel: the score divided by 100 is one sweep.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, batchSize = 100)
@Measurement(iterations = 5, batchSize = 100)
@Fork(1)
public class TimerBenchmark {
    @Param({"100", "10000"})
    int allocations;

    private Fixture fixture;
    private long nowNs;

    @Setup(Level.Iteration)
    public void setUp() {
        fixture = new Fixture(allocations);
        nowNs = fixture.nowNs;
    }

    @Benchmark
    public void sweepOnceASecond() {
        nowNs += 1_000_000_000L;
        fixture.out.clear();
        fixture.relay.onTimer(nowNs, fixture.out);
    }
}
