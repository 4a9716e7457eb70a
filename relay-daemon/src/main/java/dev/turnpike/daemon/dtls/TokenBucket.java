package dev.turnpike.daemon.dtls;

/** So many a second, with a second's worth as the burst; 0: no limit. Loop thread only. */
final class TokenBucket {
    private long perSecond;
    private double tokens;
    private long lastNs;

    TokenBucket(long perSecond, long nowNs) {
        this.perSecond = perSecond;
        this.tokens = perSecond;
        this.lastNs = nowNs;
    }

    void rate(long perSecond, long nowNs) {
        refill(nowNs);
        this.perSecond = perSecond;
        tokens = Math.min(tokens, perSecond);
    }

    /** Takes one token; false when none is left. */
    boolean take(long nowNs) {
        if (perSecond == 0) {
            return true;
        }
        refill(nowNs);
        if (tokens < 1) {
            return false;
        }
        tokens -= 1;
        return true;
    }

    private void refill(long nowNs) {
        long elapsed = nowNs - lastNs;
        if (elapsed > 0) {
            tokens = Math.min(perSecond, tokens + elapsed * (perSecond / 1e9));
            lastNs = nowNs;
        }
    }
}
