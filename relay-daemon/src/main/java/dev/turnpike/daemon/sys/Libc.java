package dev.turnpike.daemon.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The one way the daemon (and the benchmarks) call the C library through the Foreign Function and Memory API:
 * the symbol looked up in the default lookup, the downcall made, errno captured where the caller needs it. A
 * restricted method: the jar's manifest grants native access (Enable-Native-Access: ALL-UNNAMED), and tests and
 * benchmarks run with --enable-native-access=ALL-UNNAMED.
 */
public final class Libc {
    public static final int EINTR = 4;
    public static final int EAGAIN = 11;

    /** {@code int setsockopt(int fd, int level, int name, const void *value, socklen_t length)}. */
    public static final FunctionDescriptor SETSOCKOPT = FunctionDescriptor.of(
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT);

    /** ssize_t sendto(int sockfd, const void *buf, size_t len, int flags, const struct sockaddr *dest, socklen_t n) */
    public static final FunctionDescriptor SENDTO = FunctionDescriptor.of(
            ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS,
            ValueLayout.JAVA_LONG,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT);

    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Libc() {}

    /**
     * A downcall to libc's {@code name}; with {@code captureErrno}, its first argument is a call state ({@link
     * #callState}) that {@link #errno} reads after a failed call.
     *
     * @throws UnsupportedOperationException when libc has no such symbol here
     */
    @SuppressWarnings("restricted")
    public static MethodHandle downcall(String name, FunctionDescriptor descriptor, boolean captureErrno) {
        Linker linker = Linker.nativeLinker();
        MemorySegment symbol = linker.defaultLookup()
                .find(name)
                .orElseThrow(() -> new UnsupportedOperationException("no " + name + " in libc"));
        return captureErrno
                ? linker.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"))
                : linker.downcallHandle(symbol, descriptor);
    }

    /** Room for a call's errno, for downcalls made with {@code captureErrno}: one per caller, reused. */
    public static MemorySegment callState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** The errno the last call that used {@code callState} left there. */
    public static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }
}
