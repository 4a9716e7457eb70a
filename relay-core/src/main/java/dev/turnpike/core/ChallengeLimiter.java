package dev.turnpike.core;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Iterator;

/**
 * How many replies the relay sends to requests that did not authenticate (401 and 438 challenges, and the
 * errors that come before a key is known), per source IP: a token bucket each. Unauthenticated requests are
 * what anyone can send with a forged source address, so without a limit the relay is a free reflector.
 *
 * <p>The table is bounded: past {@link #MAX_SOURCES} addresses, the new ones share one bucket (a forged-source
 * flood then competes only with itself and newcomers), and buckets that have refilled are forgotten on
 * {@link #sweep}.
 */
final class ChallengeLimiter {
    static final int MAX_SOURCES = 65_536;

    private final long ratePerSecond;
    private final long burst;
    private final HashMap<InetAddress, TokenBucket> bySource = new HashMap<>();
    private TokenBucket overflow;

    ChallengeLimiter(long ratePerSecond, long burst) {
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
    }

    /** Whether {@code source} may be sent one more reply now. */
    boolean allow(InetAddress source, long nowNs) {
        if (ratePerSecond == 0) {
            return true;
        }
        TokenBucket bucket = bySource.get(source);
        if (bucket == null) {
            if (bySource.size() < MAX_SOURCES) {
                bucket = new TokenBucket(ratePerSecond, burst, nowNs);
                bySource.put(source, bucket);
            } else {
                if (overflow == null) {
                    overflow = new TokenBucket(ratePerSecond, burst, nowNs);
                }
                bucket = overflow;
            }
        }
        return bucket.take(1, nowNs);
    }

    /** Forgets sources whose buckets are full again; answers whether any are still remembered. */
    boolean sweep(long nowNs) {
        Iterator<TokenBucket> it = bySource.values().iterator();
        while (it.hasNext()) {
            if (it.next().isFull(nowNs)) {
                it.remove();
            }
        }
        if (overflow != null && overflow.isFull(nowNs)) {
            overflow = null;
        }
        return !bySource.isEmpty() || overflow != null;
    }

    int sources() {
        return bySource.size();
    }
}
