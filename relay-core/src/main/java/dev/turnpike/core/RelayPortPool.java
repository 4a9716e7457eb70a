package dev.turnpike.core;

import java.util.random.RandomGenerator;

/**
 * The relay ports of one address family, {@code --relay-ports LOW-HIGH}, handed out at random (RFC 8656 §7.2
 * recommends unpredictable ports) and returned when an allocation ends.
 */
final class RelayPortPool {
    private final int low;
    private final int high;
    private final boolean[] used = new boolean[65_536];
    private int inUse;

    RelayPortPool(int low, int high) {
        this.low = low;
        this.high = high;
    }

    /** A free port (an even one if asked, with its odd neighbour free too if {@code pair}), or -1. */
    int acquire(RandomGenerator random, boolean even, boolean pair) {
        int size = high - low + 1;
        if (inUse >= size) {
            return -1;
        }
        int start = low + random.nextInt(size);
        for (int i = 0; i < size; i++) {
            int port = low + (start - low + i) % size;
            if (used[port] || (even && (port & 1) != 0)) {
                continue;
            }
            if (pair && (port + 1 > high || used[port + 1])) {
                continue;
            }
            take(port);
            return port;
        }
        return -1;
    }

    void take(int port) {
        if (!used[port]) {
            used[port] = true;
            inUse++;
        }
    }

    void release(int port) {
        if (used[port]) {
            used[port] = false;
            inUse--;
        }
    }

    boolean contains(int port) {
        return port >= low && port <= high;
    }
}
