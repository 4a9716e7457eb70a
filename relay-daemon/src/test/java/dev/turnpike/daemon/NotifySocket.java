package dev.turnpike.daemon;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What systemd listens on for sd_notify: an AF_UNIX datagram socket, bound at a path (or, starting with '@', in
 * the abstract namespace). Java has no such socket, so this opens one through FFM, as the relay's notifier does.
 */
public final class NotifySocket implements AutoCloseable {
    private static final int AF_UNIX = 1;
    private static final int SOCK_DGRAM = 2;
    private static final int MSG_DONTWAIT = 0x40;
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle SOCKET = downcall(
            "socket",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    private static final MethodHandle BIND = downcall(
            "bind",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle RECV = downcall(
            "recv",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT,
                    ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CLOSE =
            downcall("close", FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    @SuppressWarnings("restricted")
    private static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor);
    }

    private final int fd;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer = arena.allocate(4096);

    public NotifySocket(String path) throws Throwable {
        fd = (int) SOCKET.invokeExact(AF_UNIX, SOCK_DGRAM, 0);
        if (fd < 0) {
            throw new IllegalStateException("socket(AF_UNIX) failed");
        }
        byte[] name = path.getBytes(StandardCharsets.UTF_8);
        MemorySegment address = arena.allocate(110, 2);
        address.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(name, 0, address, ValueLayout.JAVA_BYTE, 2, name.length);
        int length = 2 + name.length + 1;
        if (name[0] == '@') {
            address.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
            length = 2 + name.length;
        }
        if ((int) BIND.invokeExact(fd, address, length) != 0) {
            throw new IllegalStateException("bind(" + path + ") failed");
        }
    }

    /** The next datagram, or null if none comes within {@code timeoutMs}. */
    public String receive(long timeoutMs) throws Throwable {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        do {
            long n = (long) RECV.invokeExact(fd, buffer, buffer.byteSize(), MSG_DONTWAIT);
            if (n >= 0) {
                return new String(buffer.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
            }
            Thread.sleep(5); // polling a non-blocking socket; the datagram, not the sleep, is what we wait on
        } while (System.nanoTime() < deadline);
        return null;
    }

    /** The next datagram that contains {@code text}, skipping others; null if none within {@code timeoutMs}. */
    public String await(String text, long timeoutMs) throws Throwable {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (System.nanoTime() < deadline) {
            String message = receive(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (message != null && message.contains(text)) {
                return message;
            }
        }
        return null;
    }

    @Override
    public void close() {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable e) {
            throw new IllegalStateException(e);
        } finally {
            arena.close();
        }
    }
}
