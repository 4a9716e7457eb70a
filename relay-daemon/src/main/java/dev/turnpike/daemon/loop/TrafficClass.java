package dev.turnpike.daemon.loop;

import dev.turnpike.daemon.sys.Libc;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;
import java.net.InetSocketAddress;

/**
 * DSCP and ECN kept across the relay (--dscp-preserve): the TOS byte (IPv4) or Traffic Class (IPv6) a datagram
 * arrived with is the one its relayed copy leaves with, both ways. The receive side asks the kernel for the byte
 * of each datagram ({@code IP_RECVTOS}, {@code IPV6_RECVTCLASS}; {@link BatchReceiver} reads it from each
 * message's control data); the send side sets it on the sending socket ({@code IP_TOS}, {@code IPV6_TCLASS})
 * only when it differs from what that socket last sent with, so a relay whose traffic is all unmarked, or all
 * marked alike, makes no extra call.
 *
 * <p>The byte is copied whole, so ECN stays as the sender set it: an ECT codepoint is kept, a CE mark is kept
 * (never cleared), and nothing is marked ECT that was not. Linux lets a UDP socket set the ECN bits (it masks them
 * only for TCP). A datagram whose byte is unknown (received one at a time, without control data) goes out with 0,
 * never with a guess.
 *
 * <p>A TCP or TLS client's datagrams to peers carry its connection's DSCP ({@code IP_PKTOPTIONS}: over IPv4 the
 * kernel keeps only the SYN's, read once at accept; over IPv6 the last segment's, read after each read), without
 * the ECN bits: those belong to TCP's own congestion control, and a datagram must not be marked ECN-capable
 * because the connection was.
 *
 * <p>Through FFM on the descriptor, as {@link KernelTransmitter} does: {@code DatagramChannel.setOption} would box
 * the value (an allocation per change for DSCP values above 127, EF among them).
 */
public final class TrafficClass {
    static final int SOL_IP = ControlMessages.SOL_IP;
    static final int IP_TOS = ControlMessages.IP_TOS;
    static final int IP_RECVTOS = 13;
    static final int IPPROTO_IPV6 = ControlMessages.IPPROTO_IPV6;
    static final int IPV6_RECVTCLASS = 66;
    static final int IPV6_TCLASS = ControlMessages.IPV6_TCLASS;
    static final int IP_PKTOPTIONS = 9;
    static final int IPV6_2292PKTOPTIONS = 6;
    /** The ECN field: the low two bits of the byte (RFC 3168). */
    static final int ECN_MASK = 0x03;

    private static final MethodHandle SETSOCKOPT;
    private static final MethodHandle GETSOCKOPT;
    private static final java.lang.reflect.Method FD_VAL;
    /** Why the byte cannot be kept here, or null when it can. */
    static final String UNAVAILABLE_BECAUSE;

    static {
        MethodHandle setsockopt = null;
        MethodHandle getsockopt = null;
        java.lang.reflect.Method fdVal = null;
        String reason = BatchReceiver.UNAVAILABLE_BECAUSE; // the descriptor, and the control data, come from there
        if (reason == null) {
            try {
                // int getsockopt(int fd, int level, int name, void *value, socklen_t *length)
                getsockopt = Libc.downcall(
                        "getsockopt",
                        FunctionDescriptor.of(
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.JAVA_INT,
                                ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS),
                        true);
                // every selectable socket of the JDK's implements it, TCP ones included
                fdVal = Class.forName("sun.nio.ch.SelChImpl").getMethod("getFDVal");
                fdVal.setAccessible(true);
                setsockopt = Libc.downcall("setsockopt", Libc.SETSOCKOPT, true);
            } catch (ReflectiveOperationException | RuntimeException e) {
                reason = e.getMessage();
            }
        }
        SETSOCKOPT = setsockopt;
        GETSOCKOPT = getsockopt;
        FD_VAL = fdVal;
        UNAVAILABLE_BECAUSE = reason;
    }

    private final MemorySegment value;
    private final MemorySegment callState;
    /** getsockopt's answer for a connection's last segment: its control messages, and their length. */
    private final MemorySegment options;

    private final MemorySegment optionsLength;

    TrafficClass() {
        if (SETSOCKOPT == null) {
            throw new UnsupportedOperationException("cannot keep DSCP and ECN here: " + UNAVAILABLE_BECAUSE);
        }
        Arena arena = Arena.ofAuto();
        this.value = arena.allocate(ValueLayout.JAVA_INT);
        this.callState = Libc.callState(arena);
        this.options = arena.allocate(OPTIONS_BYTES, 8);
        this.optionsLength = arena.allocate(ValueLayout.JAVA_INT);
    }

    private static final int OPTIONS_BYTES = 256;

    /** A TCP connection's descriptor, or -1 where it cannot be read. */
    public static int descriptor(java.nio.channels.SocketChannel channel) {
        try {
            return FD_VAL == null ? -1 : (int) FD_VAL.invoke(channel);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return -1;
        }
    }

    /** Asks the kernel to keep the byte of a TCP connection's segments, for {@link #lastSegment}. */
    public void receiveOn(int fd, boolean ipv6) throws java.io.IOException {
        if (ipv6) {
            set(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
        } else {
            set(fd, SOL_IP, IP_RECVTOS, 1);
        }
    }

    /**
     * The DSCP of the last segment that arrived on TCP connection {@code fd}, without its ECN bits; 0 when the
     * kernel has none to report.
     */
    public int lastSegment(int fd, boolean ipv6) {
        if (fd < 0) {
            return 0;
        }
        int tos = ipv6 ? lastSegment(fd, IPPROTO_IPV6, IPV6_2292PKTOPTIONS) : lastSegment(fd, SOL_IP, IP_PKTOPTIONS);
        return tos < 0 ? 0 : tos & ~ECN_MASK;
    }

    private int lastSegment(int fd, int level, int name) {
        optionsLength.set(ValueLayout.JAVA_INT, 0, OPTIONS_BYTES);
        int result;
        try {
            result = (int) GETSOCKOPT.invokeExact(callState, fd, level, name, options, optionsLength);
        } catch (Throwable t) {
            throw new IllegalStateException("getsockopt downcall failed", t);
        }
        if (result != 0) {
            return -1;
        }
        return ControlMessages.trafficClass(
                options, 0, Math.min(optionsLength.get(ValueLayout.JAVA_INT, 0), OPTIONS_BYTES));
    }

    /** Whether the platform can keep the byte (Linux, the descriptor readable). */
    static boolean available() {
        return SETSOCKOPT != null;
    }

    /** Asks the kernel to report each datagram's byte on {@code socket} (both families on an IPv6 socket). */
    public void receiveOn(UdpSocket socket) throws java.io.IOException {
        set(socket.fd, SOL_IP, IP_RECVTOS, 1);
        if (socket.ipv6) {
            set(socket.fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1);
        }
    }

    /**
     * Makes {@code socket}'s next datagram to {@code destination} leave with {@code tos}: a call only when that
     * differs from what the socket last used for that family. An IPv6 socket reaches an IPv4 destination by its
     * mapped form, and the kernel then uses the IPv4 option.
     */
    void mark(UdpSocket socket, int tos, InetSocketAddress destination) throws java.io.IOException {
        if (!socket.ipv6 || destination.getAddress() instanceof Inet4Address) {
            if (socket.tos != tos) {
                set(socket.fd, SOL_IP, IP_TOS, tos);
                socket.tos = tos;
            }
        } else if (socket.trafficClass != tos) {
            set(socket.fd, IPPROTO_IPV6, IPV6_TCLASS, tos);
            socket.trafficClass = tos;
        }
    }

    private void set(int fd, int level, int name, int v) throws java.io.IOException {
        if (fd < 0) {
            return; // a socket whose descriptor could not be read: it keeps the kernel's default byte
        }
        value.set(ValueLayout.JAVA_INT, 0, v);
        int result;
        try {
            result = (int) SETSOCKOPT.invokeExact(callState, fd, level, name, value, 4);
        } catch (Throwable t) {
            throw new IllegalStateException("setsockopt downcall failed", t);
        }
        if (result != 0) {
            throw new java.io.IOException(
                    "setsockopt(" + level + ", " + name + ") failed with errno " + Libc.errno(callState));
        }
    }
}
