package dev.turnpike.core;

import java.net.InetAddress;
import java.util.HashMap;

/**
 * The live allocations that --max-allocations, --user-quota and --client-quota count: in total, per account and
 * per client IP. One relay alone counts its own ({@link #local}); the workers of one process count together
 * ({@link #shared}), so that a user whose clients land on several workers still meets one quota. Only Allocate
 * and an allocation's end touch it, never a relayed packet.
 */
public sealed class AllocationQuotas permits AllocationQuotas.Shared {
    private final HashMap<String, int[]> byAccount = new HashMap<>();
    private final HashMap<InetAddress, int[]> byClientIp = new HashMap<>();
    private int total;

    AllocationQuotas() {}

    /** For one relay's thread alone. */
    public static AllocationQuotas local() {
        return new AllocationQuotas();
    }

    /** For several relays on their own threads (the workers of one process): every call is serialised. */
    public static AllocationQuotas shared() {
        return new Shared();
    }

    /**
     * Counts one more allocation of {@code account} from {@code clientIp} unless it would pass one of
     * {@code config}'s quotas; false, and nothing counted, if it would (the Allocate earns 486).
     */
    boolean take(String account, InetAddress clientIp, RelayConfig config) {
        if ((config.maxAllocations > 0 && total >= config.maxAllocations)
                || (config.userQuota > 0 && live(byAccount, account) >= config.userQuota)
                || (config.clientQuota > 0 && live(byClientIp, clientIp) >= config.clientQuota)) {
            return false;
        }
        total++;
        tally(byAccount, account, +1);
        tally(byClientIp, clientIp, +1);
        return true;
    }

    /** An allocation counted by {@link #take} ended, or was never made. */
    void give(String account, InetAddress clientIp) {
        total--;
        tally(byAccount, account, -1);
        tally(byClientIp, clientIp, -1);
    }

    /** Allocations counted now. */
    public int total() {
        return total;
    }

    private static <K> int live(HashMap<K, int[]> counts, K key) {
        int[] n = counts.get(key);
        return n == null ? 0 : n[0];
    }

    private static <K> void tally(HashMap<K, int[]> counts, K key, int delta) {
        int[] n = counts.computeIfAbsent(key, k -> new int[1]);
        n[0] += delta;
        if (n[0] <= 0) {
            counts.remove(key);
        }
    }

    /** The same counts behind one lock: Allocates are rare beside packets, so the workers hardly ever meet here. */
    static final class Shared extends AllocationQuotas {
        @Override
        synchronized boolean take(String account, InetAddress clientIp, RelayConfig config) {
            return super.take(account, clientIp, config);
        }

        @Override
        synchronized void give(String account, InetAddress clientIp) {
            super.give(account, clientIp);
        }

        @Override
        public synchronized int total() {
            return super.total();
        }
    }
}
