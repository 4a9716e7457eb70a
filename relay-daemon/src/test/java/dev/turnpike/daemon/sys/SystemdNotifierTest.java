package dev.turnpike.daemon.sys;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.daemon.NotifySocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify without libsystemd, heard by a socket like the one systemd listens on. */
class SystemdNotifierTest {
    @TempDir
    Path dir;

    @Test
    void readyAndStoppingReachASocketAtAPath() throws Throwable {
        String path = dir.resolve("notify").toString();
        try (NotifySocket systemd = new NotifySocket(path)) {
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", path));
            assertThat(notifier.enabled()).isTrue();
            notifier.ready(() -> true);
            assertThat(systemd.receive(5_000))
                    .startsWith("READY=1\n")
                    .contains("MAINPID=" + ProcessHandle.current().pid());
            notifier.stopping();
            assertThat(systemd.receive(5_000)).startsWith("STOPPING=1\n");
            notifier.close();
        }
    }

    @Test
    void anAbstractSocketNameWorksToo() throws Throwable {
        String name = "@turnpike-test-" + ThreadLocalRandom.current().nextLong(1L << 40);
        try (NotifySocket systemd = new NotifySocket(name)) {
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of("NOTIFY_SOCKET", name));
            assertThat(notifier.notify("STATUS=hello")).isTrue();
            assertThat(systemd.receive(5_000)).isEqualTo("STATUS=hello");
        }
    }

    @Test
    void theWatchdogIsPingedOnlyWhileTheLoopIsAlive() throws Throwable {
        String path = dir.resolve("watchdog").toString();
        try (NotifySocket systemd = new NotifySocket(path)) {
            SystemdNotifier notifier = SystemdNotifier.fromEnvironment(Map.of(
                    "NOTIFY_SOCKET",
                    path,
                    "WATCHDOG_USEC",
                    "20000",
                    "WATCHDOG_PID",
                    Long.toString(ProcessHandle.current().pid())));
            AtomicBoolean alive = new AtomicBoolean(true);
            AtomicInteger asked = new AtomicInteger();
            notifier.ready(() -> {
                asked.incrementAndGet();
                return alive.get();
            });
            assertThat(systemd.receive(5_000)).startsWith("READY=1");
            assertThat(systemd.await("WATCHDOG=1", 5_000)).isEqualTo("WATCHDOG=1");

            alive.set(false);
            // The watchdog asks from one thread, and sends before it asks again: once it has asked twice more,
            // every ping from while the loop was alive is in the socket. Take those, then expect none.
            awaitAsked(asked, asked.get() + 2);
            while (systemd.receive(0) != null) {
                // pings from before
            }
            awaitAsked(asked, asked.get() + 3);
            assertThat(systemd.receive(0)).isNull();
            notifier.close();
        }
    }

    private static void awaitAsked(AtomicInteger asked, int count) throws InterruptedException {
        while (asked.get() < count) {
            Thread.sleep(5); // until the watchdog has asked; the count is what we wait on
        }
    }

    @Test
    void withoutNotifySocketOrForAnotherProcessNothingIsSent() {
        assertThat(SystemdNotifier.fromEnvironment(Map.of()).notify("READY=1")).isFalse();
        SystemdNotifier other = SystemdNotifier.fromEnvironment(
                Map.of("NOTIFY_SOCKET", "/nonexistent/notify", "WATCHDOG_USEC", "1000", "WATCHDOG_PID", "1"));
        assertThat(other.notify("READY=1")).as("no socket there").isFalse();
    }
}
