package dev.turnpike.daemon.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * sd_notify(3) without libsystemd: a datagram to the AF_UNIX socket systemd names in {@code $NOTIFY_SOCKET}, for a
 * {@code Type=notify} unit. Java cannot open a Unix datagram socket, so {@code socket(2)} and {@code sendto(2)}
 * are called through the FFM API, as {@code KernelTransmitter} calls {@code sendto}. Without {@code
 * $NOTIFY_SOCKET} (not under systemd, or another Type=) every call does nothing.
 *
 * <p>READY=1 once listening, STOPPING=1 when a drain or stop begins, and WATCHDOG=1 every half of {@code
 * $WATCHDOG_USEC} for as long as the event loop keeps publishing: a stuck loop stops the pings and systemd
 * restarts the service.
 */
public final class SystemdNotifier {
    private static final Logger log = LoggerFactory.getLogger(SystemdNotifier.class);
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    /** sizeof(struct sockaddr_un) on Linux: a 2-byte family and 108 bytes of path. */
    private static final int SOCKADDR_UN = 110;

    private static final MethodHandle SOCKET;
    private static final MethodHandle SENDTO;
    private static final MethodHandle CLOSE;

    static {
        MethodHandle socket = null;
        MethodHandle sendto = null;
        MethodHandle close = null;
        try {
            socket = Libc.downcall(
                    "socket",
                    FunctionDescriptor.of(
                            ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                    false);
            sendto = Libc.downcall("sendto", Libc.SENDTO, false);
            close = Libc.downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), false);
        } catch (RuntimeException | LinkageError e) {
            socket = null; // no native access: notifications are off, and say so if systemd asked for them
        }
        SOCKET = socket;
        SENDTO = sendto;
        CLOSE = close;
    }

    private final String socketPath;
    private final long watchdogMicros;
    private ScheduledExecutorService watchdog;

    private SystemdNotifier(String socketPath, long watchdogMicros) {
        this.socketPath = socketPath;
        this.watchdogMicros = watchdogMicros;
    }

    /** From the environment systemd gives a service: $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID. */
    public static SystemdNotifier fromEnvironment(Map<String, String> env) {
        String path = env.get("NOTIFY_SOCKET");
        if (path == null || path.isEmpty() || path.length() > SOCKADDR_UN - 3) {
            return new SystemdNotifier(null, 0);
        }
        if (SOCKET == null) {
            log.atWarn().log("$NOTIFY_SOCKET is set but native access is off: systemd will not hear READY=1");
            return new SystemdNotifier(null, 0);
        }
        long micros = 0;
        String pid = env.get("WATCHDOG_PID");
        if (pid == null || pid.equals(Long.toString(ProcessHandle.current().pid()))) {
            try {
                micros = Long.parseLong(env.getOrDefault("WATCHDOG_USEC", "0"));
            } catch (NumberFormatException e) {
                micros = 0;
            }
        }
        return new SystemdNotifier(path, Math.max(0, micros));
    }

    boolean enabled() {
        return socketPath != null;
    }

    /** READY=1, and the watchdog's pings from now on while {@code loopAlive} holds. */
    public void ready(BooleanSupplier loopAlive) {
        notify("READY=1\nSTATUS=relaying\nMAINPID=" + ProcessHandle.current().pid());
        if (enabled() && watchdogMicros > 0) {
            watchdog = Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "turnpike-watchdog");
                thread.setDaemon(true);
                return thread;
            });
            long periodMicros = Math.max(1, watchdogMicros / 2);
            watchdog.scheduleAtFixedRate(
                    () -> {
                        if (loopAlive.getAsBoolean()) {
                            notify("WATCHDOG=1");
                        }
                    },
                    0,
                    periodMicros,
                    TimeUnit.MICROSECONDS);
        }
    }

    /** STOPPING=1: a drain or a stop has begun. */
    public void stopping() {
        notify("STOPPING=1\nSTATUS=draining");
    }

    /** Sends {@code state} (NAME=value lines) to systemd; false if it could not be sent (or nobody listens). */
    boolean notify(String state) {
        if (socketPath == null) {
            return false;
        }
        try (Arena arena = Arena.ofConfined()) {
            byte[] path = socketPath.getBytes(StandardCharsets.UTF_8);
            MemorySegment address = arena.allocate(SOCKADDR_UN, 2);
            address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
            MemorySegment.copy(path, 0, address, ValueLayout.JAVA_BYTE, 2, path.length);
            int length = 2 + path.length + 1; // a path ends in NUL
            if (path[0] == '@') {
                address.set(ValueLayout.JAVA_BYTE, 2, (byte) 0); // the abstract namespace: no NUL at the end
                length = 2 + path.length;
            }
            byte[] message = state.getBytes(StandardCharsets.UTF_8);
            MemorySegment data = arena.allocate(message.length);
            MemorySegment.copy(message, 0, data, ValueLayout.JAVA_BYTE, 0, message.length);
            int fd = (int) SOCKET.invokeExact(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                return false;
            }
            try {
                long sent = (long) SENDTO.invokeExact(fd, data, (long) message.length, 0, address, length);
                return sent == message.length;
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (Throwable e) {
            log.atDebug().setCause(e).log("sd_notify failed");
            return false;
        }
    }

    public void close() {
        if (watchdog != null) {
            watchdog.shutdownNow();
        }
    }
}
