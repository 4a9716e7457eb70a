package dev.turnpike.core;

/**
 * A token bucket in whole units (bytes, or replies), refilled from the time the caller passes in: the core has
 * no clock. Starts full. A rate of 0 means unlimited.
 */
public final class TokenBucket {
    private static final long NS_PER_SECOND = 1_000_000_000L;

    private final long ratePerSecond;
    private final long capacity;
    /** Longest refill that matters: the time to fill an empty bucket (and the bound that keeps the product small). */
    private final long fillNs;

    private long tokens;
    private long refilledAtNs;

    /**
     * A bandwidth cap: bytes a second from bits a second (at most {@link RelayConfig#MAX_BPS}), room for one
     * second's worth and at least the largest datagram.
     */
    static TokenBucket forBitsPerSecond(long bitsPerSecond, long nowNs) {
        long bytesPerSecond = Math.max(1, Math.min(bitsPerSecond, RelayConfig.MAX_BPS) / 8);
        return new TokenBucket(bytesPerSecond, Math.max(bytesPerSecond, 65_535), nowNs);
    }

    public TokenBucket(long ratePerSecond, long capacity, long nowNs) {
        if (capacity > Long.MAX_VALUE / NS_PER_SECOND) {
            // refill multiplies nanoseconds (up to the fill time) by the rate: keep that product in a long
            throw new IllegalArgumentException("token bucket capacity " + capacity + " (expected: at most "
                    + Long.MAX_VALUE / NS_PER_SECOND + ")");
        }
        this.ratePerSecond = ratePerSecond;
        this.capacity = capacity;
        this.fillNs = ratePerSecond == 0 ? 0 : Math.max(1, Math.ceilDiv(capacity * NS_PER_SECOND, ratePerSecond));
        // elapsed < fillNs, so elapsed * rate < capacity * 1e9 + rate: within a long for the capacities allowed
        this.tokens = capacity;
        this.refilledAtNs = nowNs;
    }

    /** Takes {@code amount} tokens if there are that many; answers whether it did. */
    public boolean take(long amount, long nowNs) {
        if (ratePerSecond == 0) {
            return true;
        }
        refill(nowNs);
        if (tokens < amount) {
            return false;
        }
        tokens -= amount;
        return true;
    }

    /** True when the bucket has refilled completely by {@code nowNs}: nothing would be lost by forgetting it. */
    boolean isFull(long nowNs) {
        refill(nowNs);
        return tokens >= capacity;
    }

    private void refill(long nowNs) {
        long elapsedNs = nowNs - refilledAtNs;
        if (elapsedNs <= 0) {
            return; // the same instant, or a clock that went back: no refill
        }
        if (elapsedNs >= fillNs) {
            tokens = capacity;
            refilledAtNs = nowNs;
            return;
        }
        long add = elapsedNs * ratePerSecond / NS_PER_SECOND; // < capacity * 1e9: no overflow
        if (add > 0) {
            tokens = Math.min(capacity, tokens + add);
            refilledAtNs += add * NS_PER_SECOND / ratePerSecond; // keep the fraction of a token not yet added
        }
    }
}
