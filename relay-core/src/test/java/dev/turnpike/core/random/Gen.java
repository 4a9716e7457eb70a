package dev.turnpike.core.random;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Random test inputs from one seed, the same on every run and JDK (SplittableRandom's SplitMix64 is specified),
 * for the property tests: {@link Seeds} says which seeds a run replays. Whole numbers lean to the edges of their
 * range (one draw in eight is the lowest, the highest or a neighbour of either), since the empty, the largest
 * and the off-by-one inputs are where a parser or a loop breaks.
 */
public final class Gen {
    private final SplittableRandom random;

    public Gen(long seed) {
        this.random = new SplittableRandom(seed);
    }

    /** A whole number from {@code low} to {@code high}, both included, leaning to the edges. */
    public int between(int low, int high) {
        if (low >= high) {
            return low;
        }
        if (random.nextInt(8) == 0) {
            int edge = switch (random.nextInt(4)) {
                case 0 -> low;
                case 1 -> high;
                case 2 -> low + 1;
                default -> high - 1;
            };
            return edge;
        }
        return (int) (low + random.nextLong((long) high - low + 1));
    }

    public long between(long low, long high) {
        if (low >= high) {
            return low;
        }
        if (random.nextInt(8) == 0) {
            return random.nextBoolean() ? low : high;
        }
        return random.nextLong(low, high == Long.MAX_VALUE ? high : high + 1);
    }

    public boolean bool() {
        return random.nextBoolean();
    }

    @SafeVarargs
    public final <T> T oneOf(T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    /** An index into {@code weights}, drawn in proportion to them. */
    public int weighted(int... weights) {
        int total = 0;
        for (int w : weights) {
            total += w;
        }
        int draw = random.nextInt(total);
        for (int i = 0; i < weights.length; i++) {
            draw -= weights[i];
            if (draw < 0) {
                return i;
            }
        }
        throw new AssertionError("unreachable");
    }

    /** From {@code minSize} to {@code maxSize} elements, each from {@code element}; as often empty as full. */
    public <T> List<T> list(int minSize, int maxSize, Supplier<T> element) {
        int size = between(minSize, maxSize);
        List<T> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            list.add(element.get());
        }
        return list;
    }

    /** {@code length} random bytes. */
    public byte[] bytes(int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }
}
