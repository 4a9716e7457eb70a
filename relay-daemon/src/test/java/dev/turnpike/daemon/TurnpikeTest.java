package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class TurnpikeTest {
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private void runGuarded(Runnable loop) {
        Workers.guarded(loop, failure, LoggerFactory.getLogger(TurnpikeTest.class))
                .run();
    }

    @Test
    void aLoopThatStopsNormallyLeavesNoFailure() {
        runGuarded(() -> {});
        assertThat(failure.get()).isNull();
    }

    @Test
    void aLoopThatDiesOfAnExceptionIsAFailure() {
        runGuarded(() -> {
            throw new IllegalStateException("event loop failed");
        });
        assertThat(failure.get()).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aLoopThatDiesOfAnErrorIsAFailureTooNotACleanStop() {
        runGuarded(() -> {
            throw new NoSuchMethodError("RelayCounters.copy()");
        });
        assertThat(failure.get()).isInstanceOf(NoSuchMethodError.class);
    }
}
