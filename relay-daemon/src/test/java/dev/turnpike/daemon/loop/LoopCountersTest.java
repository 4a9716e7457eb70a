package dev.turnpike.daemon.loop;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import org.junit.jupiter.api.Test;

/** The workers' counters summed for the process: every counter, without a line per counter to forget. */
class LoopCountersTest {
    @Test
    void everyCounterIsSummedAndTheHighWaterIsTheHighest() throws Exception {
        LoopCounters a = new LoopCounters();
        LoopCounters b = new LoopCounters();
        int fields = 0;
        long n = 1;
        for (Field f : LoopCounters.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            assertThat(f.getType())
                    .as(f.getName() + ": a counter is a long or a long[]")
                    .isIn(long.class, long[].class);
            if (f.getType() == long.class) {
                f.setLong(a, n);
                f.setLong(b, 1000 * n);
            } else {
                long[] x = (long[]) f.get(a);
                long[] y = (long[]) f.get(b);
                for (int i = 0; i < x.length; i++) {
                    x[i] = n + i;
                    y[i] = 1000 * (n + i);
                }
            }
            fields++;
            n++;
        }
        LoopCounters sum = a.copy().add(b);
        n = 1;
        for (Field f : LoopCounters.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers())) {
                continue;
            }
            if (f.getType() == long.class) {
                long expected = f.isAnnotationPresent(LoopCounters.Highest.class) ? 1000 * n : 1001 * n;
                assertThat(f.getLong(sum)).as(f.getName()).isEqualTo(expected);
            } else {
                long[] s = (long[]) f.get(sum);
                for (int i = 0; i < s.length; i++) {
                    assertThat(s[i]).as(f.getName() + "[" + i + "]").isEqualTo(1001 * (n + i));
                }
            }
            n++;
        }
        assertThat(fields).as("the counters there are").isGreaterThan(25);
        assertThat(a.copy()).usingRecursiveComparison().isEqualTo(a);
    }
}
