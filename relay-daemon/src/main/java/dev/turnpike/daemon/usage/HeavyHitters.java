package dev.turnpike.daemon.usage;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Usage by key in at most {@code capacity} rows and an "other" row, so that no client can grow it: when a new key
 * comes to a full table, the row that used the fewest bytes leaves it and its figures go to "other". The totals are
 * exact (the rows and "other" add up to everything); a key's own row is exact from when it last entered the table,
 * which a heavy hitter, once in, does not leave. Not thread-safe: {@link UsageTable} guards it.
 */
final class HeavyHitters {
    private final int capacity;
    private final HashMap<String, Usage> rows = new HashMap<>();
    private Usage other = Usage.NONE;

    HeavyHitters(int capacity) {
        this.capacity = capacity;
    }

    void add(String key, Usage usage) {
        Usage row = rows.get(key);
        if (row == null && rows.size() >= capacity) {
            if (capacity == 0) {
                other = other.plus(usage);
                return;
            }
            Map.Entry<String, Usage> least = rows.entrySet().stream()
                    .min(Comparator.comparingLong(
                                    (Map.Entry<String, Usage> e) -> e.getValue().bytes())
                            .thenComparing(Map.Entry::getKey))
                    .orElseThrow();
            rows.remove(least.getKey());
            other = other.plus(least.getValue());
        }
        rows.put(key, row == null ? usage : row.plus(usage));
    }

    /** A copy: the rows by bytes, most first, then "other" (null when nothing went there). */
    Snapshot copy() {
        List<Map.Entry<String, Usage>> sorted = new ArrayList<>(rows.entrySet());
        sorted.sort(Comparator.comparingLong(
                        (Map.Entry<String, Usage> e) -> e.getValue().bytes())
                .reversed()
                .thenComparing(Map.Entry::getKey));
        return new Snapshot(List.copyOf(sorted), other.equals(Usage.NONE) ? null : other);
    }

    /** The rows, most bytes first, and what the table let go of. */
    record Snapshot(List<Map.Entry<String, Usage>> rows, Usage other) {}
}
