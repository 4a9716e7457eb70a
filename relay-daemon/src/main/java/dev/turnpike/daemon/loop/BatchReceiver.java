package dev.turnpike.daemon.loop;

import dev.turnpike.daemon.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;

/**
 * Receives up to {@link #SLOTS} datagrams from one socket in one {@code recvmmsg(2)} call, through the Foreign
 * Function and Memory API, into slots of one direct buffer, each with headroom in front for a header written
 * in place. One syscall per wake-up instead of one per datagram plus the one that finds the socket empty,
 * and source addresses resolved through an {@link AddressCache} instead of a new object per datagram.
 *
 * <p>Linux only, and it needs the socket's file descriptor, which the JDK keeps private
 * ({@code --add-opens java.base/sun.nio.ch=ALL-UNNAMED}, set in turnpike.jar's manifest). Where either is
 * missing, {@link #AVAILABLE} is false and the loop receives through {@link DatagramChannel#receive}.
 */
public final class BatchReceiver {
    static final int SLOTS = 32;
    private static final int MAX_DATAGRAM = 65_535;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_TRUNC = 0x20;
    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int NAME_BYTES = 32; // sockaddr_in6 is 28
    private static final int MMSGHDR_BYTES = 64;
    private static final int IOVEC_BYTES = 16;
    // struct msghdr on LP64 Linux: name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48;
    // struct mmsghdr adds msg_len at 56.
    private static final long NAME = 0;
    private static final long NAMELEN = 8;
    private static final long IOV = 16;
    private static final long IOVLEN = 24;
    private static final long CONTROL = 32;
    private static final long CONTROLLEN = 40;
    /** Room for a slot's control data: two cmsghdrs of 16 bytes, each with an int (aligned to 8), and spare. */
    private static final int CONTROL_BYTES = 64;

    private static final long FLAGS = 48;
    private static final long MSG_LEN = 56;

    // sockaddr_in / sockaddr_in6: family in host order, then port and address in network order
    private static final ValueLayout.OfShort NETWORK_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NETWORK_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfLong NETWORK_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final MethodHandle RECVMMSG;
    private static final Method FD_VAL;
    /** Why batching is off, or null when it is on. */
    static final String UNAVAILABLE_BECAUSE;

    public static final boolean AVAILABLE;

    static {
        MethodHandle recvmmsg = null;
        Method fdVal = null;
        String reason = null;
        try {
            if (!System.getProperty("os.name", "")
                    .toLowerCase(java.util.Locale.ROOT)
                    .contains("linux")) {
                throw new UnsupportedOperationException("not Linux");
            }
            // int recvmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *t)
            recvmmsg = Libc.downcall(
                    "recvmmsg",
                    FunctionDescriptor.of(
                            ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS,
                            ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT,
                            ValueLayout.ADDRESS),
                    true);
            fdVal = Class.forName("sun.nio.ch.DatagramChannelImpl").getDeclaredMethod("getFDVal");
            fdVal.setAccessible(true);
        } catch (ReflectiveOperationException | RuntimeException e) {
            reason = e.getClass().getSimpleName() + ": " + e.getMessage();
        }
        RECVMMSG = recvmmsg;
        FD_VAL = fdVal;
        UNAVAILABLE_BECAUSE = reason;
        AVAILABLE = reason == null;
    }

    /** The slots' memory: datagram i starts at {@link #offset}(i), with headroom in front of it. */
    final ByteBuffer buffer;

    private final int headroom;
    private final int slotBytes;
    private final MemorySegment messages;
    private final MemorySegment names;
    private final MemorySegment callState;
    private final AddressCache addresses;
    /** Each slot's control data (the TOS byte or Traffic Class), or null when the byte is not kept. */
    private final MemorySegment control;

    BatchReceiver(int headroom, int tailroom, AddressCache addresses) {
        this(headroom, tailroom, addresses, false);
    }

    /** With {@code trafficClass}, each datagram's TOS byte is read too ({@link #trafficClass}, {@link TrafficClass}). */
    BatchReceiver(int headroom, int tailroom, AddressCache addresses, boolean trafficClass) {
        this.headroom = headroom;
        this.slotBytes = (headroom + MAX_DATAGRAM + tailroom + 7) & ~7;
        this.addresses = addresses;
        Arena arena = Arena.ofAuto();
        this.buffer = ByteBuffer.allocateDirect(slotBytes * SLOTS);
        MemorySegment data = MemorySegment.ofBuffer(buffer);
        this.messages = arena.allocate((long) MMSGHDR_BYTES * SLOTS, 8);
        this.names = arena.allocate((long) NAME_BYTES * SLOTS, 8);
        MemorySegment iovecs = arena.allocate((long) IOVEC_BYTES * SLOTS, 8);
        this.callState = Libc.callState(arena);
        this.control = trafficClass ? arena.allocate((long) CONTROL_BYTES * SLOTS, 8) : null;
        for (int i = 0; i < SLOTS; i++) {
            MemorySegment iovec = iovecs.asSlice((long) IOVEC_BYTES * i, IOVEC_BYTES);
            iovec.set(ValueLayout.ADDRESS, 0, data.asSlice((long) slotBytes * i + headroom, MAX_DATAGRAM));
            iovec.set(ValueLayout.JAVA_LONG, 8, MAX_DATAGRAM);
            long m = (long) MMSGHDR_BYTES * i;
            messages.set(ValueLayout.ADDRESS, m + NAME, names.asSlice((long) NAME_BYTES * i, NAME_BYTES));
            messages.set(ValueLayout.ADDRESS, m + IOV, iovec);
            messages.set(ValueLayout.JAVA_LONG, m + IOVLEN, 1);
            if (control != null) {
                messages.set(
                        ValueLayout.ADDRESS, m + CONTROL, control.asSlice((long) CONTROL_BYTES * i, CONTROL_BYTES));
            }
        }
    }

    public static int fd(DatagramChannel channel) {
        try {
            return (int) FD_VAL.invoke(channel);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot read the socket's descriptor", e);
        }
    }

    /**
     * Receives what is waiting on {@code fd}, up to {@link #SLOTS} datagrams; answers how many (0 when none).
     * Throws {@link java.io.IOException} for an error other than "nothing waiting".
     */
    int receive(int fd) throws java.io.IOException {
        for (int i = 0; i < SLOTS; i++) {
            messages.set(ValueLayout.JAVA_INT, (long) MMSGHDR_BYTES * i + NAMELEN, NAME_BYTES);
            if (control != null) {
                messages.set(ValueLayout.JAVA_LONG, (long) MMSGHDR_BYTES * i + CONTROLLEN, CONTROL_BYTES);
            }
        }
        int n;
        try {
            n = (int) RECVMMSG.invokeExact(callState, fd, messages, SLOTS, MSG_DONTWAIT, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IllegalStateException("recvmmsg downcall failed", t);
        }
        if (n < 0) {
            int errno = Libc.errno(callState);
            if (errno == Libc.EAGAIN || errno == Libc.EINTR) {
                return 0;
            }
            throw new java.io.IOException("recvmmsg failed with errno " + errno);
        }
        return n;
    }

    /** Where datagram {@code i} of the last batch starts in {@link #buffer}. */
    int offset(int i) {
        return slotBytes * i + headroom;
    }

    /** Its length, or -1 if it was truncated (cannot happen: a slot holds the largest datagram). */
    int length(int i) {
        long m = (long) MMSGHDR_BYTES * i;
        if ((messages.get(ValueLayout.JAVA_INT, m + FLAGS) & MSG_TRUNC) != 0) {
            return -1;
        }
        return messages.get(ValueLayout.JAVA_INT, m + MSG_LEN);
    }

    boolean readsTrafficClass() {
        return control != null;
    }

    /**
     * Its TOS byte (IPv4) or Traffic Class (IPv6) as the kernel reported it in the control data; 0 when not
     * reported or not asked for (unmarked, never a guess).
     */
    int trafficClass(int i) {
        if (control == null) {
            return 0;
        }
        long length = messages.get(ValueLayout.JAVA_LONG, (long) MMSGHDR_BYTES * i + CONTROLLEN);
        return Math.max(
                0, ControlMessages.trafficClass(control, (long) CONTROL_BYTES * i, Math.min(length, CONTROL_BYTES)));
    }

    /** Its source address, or null for an address family other than IPv4 and IPv6. */
    InetSocketAddress source(int i) {
        long at = (long) NAME_BYTES * i;
        int family = names.get(ValueLayout.JAVA_SHORT, at) & 0xFFFF; // host order
        int port = names.get(NETWORK_SHORT, at + 2) & 0xFFFF;
        if (family == AF_INET) {
            return addresses.ipv4(names.get(NETWORK_INT, at + 4), port);
        }
        if (family == AF_INET6) {
            return addresses.ipv6(names.get(NETWORK_LONG, at + 8), names.get(NETWORK_LONG, at + 16), port);
        }
        return null;
    }
}
