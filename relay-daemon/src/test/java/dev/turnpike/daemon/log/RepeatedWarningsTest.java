package dev.turnpike.daemon.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RepeatedWarningsTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aBurstIsCutAfterTenAMinuteAndTheNextLoggedSaysHowManyWereHeldBack() {
        RepeatedWarnings warnings = new RepeatedWarnings();
        long now = 5 * SECOND;
        for (int i = 0; i < RepeatedWarnings.PER_MINUTE; i++) {
            assertThat(warnings.admit("internal error", now + i)).isZero();
        }
        for (int i = 0; i < 1_000; i++) {
            assertThat(warnings.admit("internal error", now + 30 * SECOND)).isEqualTo(-1);
        }
        assertThat(warnings.admit("another warning", now + 30 * SECOND))
                .as("each message has a budget of its own")
                .isZero();
        assertThat(warnings.admit("internal error", now + 60 * SECOND)).isEqualTo(1_000);
        assertThat(warnings.admit("internal error", now + 61 * SECOND)).isZero();
    }

    @Test
    void aQuietMessageIsAlwaysLogged() {
        RepeatedWarnings warnings = new RepeatedWarnings();
        for (int minute = 0; minute < 100; minute++) {
            assertThat(warnings.admit("rare", minute * 60 * SECOND)).isZero();
        }
    }
}
