package dev.turnpike.core.random;

import java.util.SplittableRandom;
import java.util.stream.LongStream;
import java.util.stream.Stream;

/**
 * The seeds a property test runs, each a case named by its seed: first the replayed list (every run, the same;
 * a seed that once failed is added to it, so that what broke once is tried for ever), then fresh seeds, new each
 * run, so that {@code ./mvnw verify} keeps exploring. A failure names its seed in the test's name ("seed
 * 8125…"); {@code -Dproperties.seed=8125…} runs that one alone, and {@code -Dproperties.fresh=N} sets how many
 * fresh seeds a run adds.
 */
public final class Seeds {
    /** Replayed by every property on every run. */
    private static final long[] REPLAYED = {
        0L,
        1L,
        42L,
        0x5EEDL,
        -1L,
        Long.MAX_VALUE,
        Long.MIN_VALUE,
        0x9E3779B97F4A7C15L,
        20_261_206L,
        3_478L,
        5_349L,
        65_535L,
        0xC0FFEEL,
        -0x7F4A7C15L,
        123_456_789_012L,
        8_656L
    };

    private Seeds() {}

    /**
     * Names the seed in the failure itself, so that the build log says which one to replay (surefire's summary
     * shows an index, not the test's name): put {@code @ExtendWith(Seeds.NamedOnFailure.class)} on a property
     * test class whose cases are named {@code "seed {0}"}.
     */
    public static final class NamedOnFailure implements org.junit.jupiter.api.extension.TestExecutionExceptionHandler {
        @Override
        public void handleTestExecutionException(
                org.junit.jupiter.api.extension.ExtensionContext context, Throwable failure) throws Throwable {
            String name = context.getDisplayName();
            if (!name.startsWith("seed ")) {
                throw failure;
            }
            String seed = name.substring("seed ".length());
            AssertionError named = new AssertionError(
                    "failed with " + name + " (replay it alone: -Dproperties.seed=" + seed
                            + "; keep it in Seeds.REPLAYED): " + failure.getMessage(),
                    failure);
            named.setStackTrace(failure.getStackTrace());
            throw named;
        }
    }

    /**
     * The replayed seeds, then fresh ones up to {@code tries} in all (or {@code -Dproperties.fresh} of them); or
     * only {@code -Dproperties.seed} when it is set.
     */
    public static Stream<Long> replayedAndFresh(int tries) {
        String only = System.getProperty("properties.seed");
        if (only != null && !only.isBlank()) {
            return Stream.of(Long.parseLong(only.strip()));
        }
        int fresh = Integer.getInteger("properties.fresh", Math.max(0, tries - REPLAYED.length));
        SplittableRandom source = new SplittableRandom();
        return Stream.concat(
                LongStream.of(REPLAYED).boxed(),
                LongStream.generate(source::nextLong).limit(fresh).boxed());
    }
}
