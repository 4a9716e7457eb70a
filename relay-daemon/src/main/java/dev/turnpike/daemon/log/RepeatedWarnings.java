package dev.turnpike.daemon.log;

import java.util.HashMap;

/**
 * Bursts of the same warning, cut short: each message is logged at most {@link #PER_MINUTE} times a minute, and
 * the first logged after a quiet spell says how many were held back. A warning a datagram can trigger would
 * otherwise let anyone fill the disk (or journald's rate limit, which then hides everything else). One thread's:
 * the loop's.
 */
public final class RepeatedWarnings {
    static final int PER_MINUTE = 10;
    private static final long MINUTE_NS = 60_000_000_000L;
    /** Messages are a handful of constants; this bounds the table should one ever carry a variable part. */
    private static final int MAX_MESSAGES = 256;

    private static final class Window {
        long startNs;
        int logged;
        long held;
    }

    private final HashMap<String, Window> windows = new HashMap<>();

    /**
     * Whether to log {@code message} now: -1 to hold it back, else how many of it were held back since it was last
     * logged (log that number with it).
     */
    public long admit(String message, long nowNs) {
        Window window = windows.get(message);
        if (window == null) {
            if (windows.size() >= MAX_MESSAGES) {
                windows.clear();
            }
            window = new Window();
            window.startNs = nowNs;
            windows.put(message, window);
        }
        if (nowNs - window.startNs >= MINUTE_NS) {
            window.startNs = nowNs;
            window.logged = 0;
        }
        if (window.logged >= PER_MINUTE) {
            window.held++;
            return -1;
        }
        window.logged++;
        long held = window.held;
        window.held = 0;
        return held;
    }
}
