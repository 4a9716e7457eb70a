package dev.turnpike.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TokenBucketTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aBucketStartsFullAndRefillsAtItsRateUpToItsCapacity() {
        TokenBucket bucket = new TokenBucket(10, 20, 0);
        assertThat(bucket.take(20, 0)).isTrue();
        assertThat(bucket.take(1, 0)).isFalse();
        assertThat(bucket.take(5, SECOND / 2)).isTrue();
        assertThat(bucket.take(1, SECOND / 2)).isFalse();
        assertThat(bucket.isFull(100 * SECOND)).isTrue();
        assertThat(bucket.take(21, 100 * SECOND)).isFalse();
    }

    @Test
    void fractionsOfATokenAreKeptAcrossFrequentCalls() {
        TokenBucket bucket = new TokenBucket(10, 1, 0);
        assertThat(bucket.take(1, 0)).isTrue();
        int taken = 0;
        for (long t = 0; t <= 10 * SECOND; t += SECOND / 100) { // every 10 ms: a tenth of a token each time
            taken += bucket.take(1, t) ? 1 : 0;
        }
        assertThat(taken).isEqualTo(100);
    }

    @Test
    void aClockThatGoesBackAddsNothingAndAHugeGapDoesNotOverflow() {
        TokenBucket bucket = new TokenBucket(1_000_000_000_000L, 1_000_000_000L, 5 * SECOND);
        assertThat(bucket.take(1_000_000_000L, 5 * SECOND)).isTrue();
        assertThat(bucket.take(1, SECOND)).isFalse();
        assertThat(bucket.take(1_000_000_000L, Long.MAX_VALUE / 2)).isTrue();
    }

    @Test
    void theFastestBucketAllowedFillsWithoutOverflow() {
        long bytesPerSecond = RelayConfig.MAX_BPS / 8;
        TokenBucket bucket = new TokenBucket(bytesPerSecond, bytesPerSecond, 0);
        assertThat(bucket.take(bytesPerSecond, 0)).isTrue();
        assertThat(bucket.take(bytesPerSecond / 2, SECOND / 2)).isTrue();
        assertThat(bucket.take(bytesPerSecond / 100, SECOND / 2)).isFalse();
        assertThat(bucket.take(bytesPerSecond, 2 * SECOND)).isTrue();
    }

    @Test
    void aRateOfZeroIsNoLimit() {
        TokenBucket bucket = new TokenBucket(0, 0, 0);
        assertThat(bucket.take(Long.MAX_VALUE, 0)).isTrue();
    }
}
