package dev.turnpike.benchmarks.generator;

import dev.turnpike.daemon.sys.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.ByteOrder;

/**
 * One IPv4 UDP socket of the load generator's, driven through {@code sendmmsg(2)} and {@code recvmmsg(2)} (the
 * Foreign Function and Memory API), {@link #SLOTS} datagrams a call. With {@code --batched}, two of these stand in
 * for the hundred client sockets and the echo peer: the clients' socket is bound to 0.0.0.0 and sends each
 * datagram from its client's own address ({@code IP_PKTINFO}), so the relay still sees a hundred sources while
 * the generator pays one syscall per batch instead of one per datagram. Linux, x86-64 or aarch64 (LP64) only.
 */
final class BatchedUdp implements AutoCloseable {
    static final int SLOTS = 64;
    static final int SLOT_BYTES = 2048; // the generator's datagrams are a few hundred bytes

    private static final int AF_INET = 2;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_NONBLOCK = 0x800;
    private static final int SOL_SOCKET = 1;
    private static final int SO_REUSEADDR = 2;
    private static final int SO_SNDBUF = 7;
    private static final int SO_RCVBUF = 8;
    private static final int IPPROTO_IP = 0;
    private static final int IP_PKTINFO = 8;
    private static final int MSG_DONTWAIT = 0x40;

    // struct mmsghdr on LP64 Linux: msghdr (name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40,
    // flags 48), then msg_len at 56
    private static final int MMSGHDR = 64;
    private static final int NAME = 16; // struct sockaddr_in
    private static final int IOVEC = 16;
    // struct cmsghdr (len 0, level 8, type 12) and struct in_pktinfo (ifindex, spec_dst, addr) at 16: CMSG_SPACE 32
    private static final int CONTROL = 32;
    private static final int CMSG_LEN = 28;

    private static final ValueLayout.OfShort NETWORK_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    private static final ValueLayout.OfInt NETWORK_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final MethodHandle SOCKET =
            downcall("socket", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle SETSOCKOPT = downcall(
            "setsockopt",
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT);
    private static final MethodHandle BIND =
            downcall("bind", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT);
    private static final MethodHandle GETSOCKNAME = downcall(
            "getsockname", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS);
    private static final MethodHandle SENDMMSG = downcall(
            "sendmmsg",
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT);
    private static final MethodHandle RECVMMSG = downcall(
            "recvmmsg",
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS,
            ValueLayout.JAVA_INT,
            ValueLayout.JAVA_INT,
            ValueLayout.ADDRESS);
    private static final MethodHandle CLOSE = downcall("close", ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
    private static final MethodHandle POLL =
            downcall("poll", ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT);
    private static final short POLLIN = 1;

    private static MethodHandle downcall(String name, ValueLayout result, ValueLayout... arguments) {
        return Libc.downcall(name, FunctionDescriptor.of(result, arguments), true);
    }

    private final Arena arena = Arena.ofShared();
    private final int fd;
    private final MemorySegment messages;
    private final MemorySegment names;
    private final MemorySegment controls;
    private final MemorySegment iovecs;
    /** Datagram i's bytes: {@link #SLOT_BYTES} from {@code SLOT_BYTES * i}. */
    final MemorySegment data;

    private final MemorySegment callState;
    private final int port;
    /** One struct pollfd (fd, events, revents) for {@link #await}. */
    private final MemorySegment pollFd;

    /**
     * A socket bound to {@code ip}:{@code port} (host-order IPv4; 0 for any), with 4 MiB buffers each way;
     * {@code shared}: SO_REUSEADDR, so that the clients' own sockets may bind the same port on their addresses
     * while they set up their allocations.
     */
    BatchedUdp(int ip, int port, boolean shared) throws IOException {
        callState = Libc.callState(arena);
        pollFd = arena.allocate(8, 4);
        fd = check("socket", invoke(SOCKET, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0));
        MemorySegment value = arena.allocate(ValueLayout.JAVA_INT);
        if (shared) {
            value.set(ValueLayout.JAVA_INT, 0, 1);
            check("SO_REUSEADDR", invoke(SETSOCKOPT, fd, SOL_SOCKET, SO_REUSEADDR, value, 4));
        }
        value.set(ValueLayout.JAVA_INT, 0, 4 << 20);
        check("SO_RCVBUF", invoke(SETSOCKOPT, fd, SOL_SOCKET, SO_RCVBUF, value, 4));
        check("SO_SNDBUF", invoke(SETSOCKOPT, fd, SOL_SOCKET, SO_SNDBUF, value, 4));
        MemorySegment address = arena.allocate(NAME, 8);
        putName(address, ip, port);
        check("bind", invoke(BIND, fd, address, NAME));
        MemorySegment length = arena.allocate(ValueLayout.JAVA_INT);
        length.set(ValueLayout.JAVA_INT, 0, NAME);
        check("getsockname", invoke(GETSOCKNAME, fd, address, length));
        this.port = address.get(NETWORK_SHORT, 2) & 0xFFFF;

        messages = arena.allocate((long) MMSGHDR * SLOTS, 8);
        names = arena.allocate((long) NAME * SLOTS, 8);
        controls = arena.allocate((long) CONTROL * SLOTS, 8);
        data = arena.allocate((long) SLOT_BYTES * SLOTS, 8);
        iovecs = arena.allocate((long) IOVEC * SLOTS, 8);
        for (int i = 0; i < SLOTS; i++) {
            MemorySegment iovec = iovecs.asSlice((long) IOVEC * i, IOVEC);
            iovec.set(ValueLayout.ADDRESS, 0, data.asSlice((long) SLOT_BYTES * i, SLOT_BYTES));
            long m = (long) MMSGHDR * i;
            messages.set(ValueLayout.ADDRESS, m, names.asSlice((long) NAME * i, NAME));
            messages.set(ValueLayout.ADDRESS, m + 16, iovec);
            messages.set(ValueLayout.JAVA_LONG, m + 24, 1);
            MemorySegment control = controls.asSlice((long) CONTROL * i, CONTROL);
            control.set(ValueLayout.JAVA_LONG, 0, CMSG_LEN);
            control.set(ValueLayout.JAVA_INT, 8, IPPROTO_IP);
            control.set(ValueLayout.JAVA_INT, 12, IP_PKTINFO);
        }
    }

    int port() {
        return port;
    }

    /**
     * Datagram {@code i} of the next {@link #send}: {@code length} bytes already in its slot of {@link #data}, to
     * {@code ip}:{@code port}, from {@code sourceIp} (0: the socket's own address).
     */
    void prepare(int i, int length, int ip, int port, int sourceIp) {
        putName(names.asSlice((long) NAME * i, NAME), ip, port);
        long m = (long) MMSGHDR * i;
        messages.set(ValueLayout.JAVA_INT, m + 8, NAME);
        iovecLength(i, length);
        if (sourceIp == 0) {
            messages.set(ValueLayout.ADDRESS, m + 32, MemorySegment.NULL);
            messages.set(ValueLayout.JAVA_LONG, m + 40, 0);
        } else {
            MemorySegment control = controls.asSlice((long) CONTROL * i, CONTROL);
            control.set(ValueLayout.JAVA_INT, 16, 0); // any interface
            control.set(NETWORK_INT, 20, sourceIp); // ipi_spec_dst: the source address
            control.set(ValueLayout.JAVA_INT, 24, 0);
            messages.set(ValueLayout.ADDRESS, m + 32, control);
            messages.set(ValueLayout.JAVA_LONG, m + 40, CONTROL);
        }
        messages.set(ValueLayout.JAVA_INT, m + 48, 0);
    }

    /**
     * Sends datagrams {@code from} to {@code to - 1} as prepared (or as received: {@link #echoPrepare}); answers
     * how many the kernel took (fewer when the send buffer is full).
     */
    int send(int from, int to) throws IOException {
        int n;
        try {
            n = (int) SENDMMSG.invokeExact(
                    callState, fd, messages.asSlice((long) MMSGHDR * from), to - from, MSG_DONTWAIT);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        return countOrNone("sendmmsg", n);
    }

    /** Receives up to {@link #SLOTS} waiting datagrams into the slots; answers how many (0: none waiting). */
    int receive() throws IOException {
        for (int i = 0; i < SLOTS; i++) {
            long m = (long) MMSGHDR * i;
            messages.set(ValueLayout.JAVA_INT, m + 8, NAME);
            messages.set(ValueLayout.ADDRESS, m + 32, MemorySegment.NULL);
            messages.set(ValueLayout.JAVA_LONG, m + 40, 0);
            iovecLength(i, SLOT_BYTES);
        }
        int n;
        try {
            n = (int) RECVMMSG.invokeExact(callState, fd, messages, SLOTS, MSG_DONTWAIT, MemorySegment.NULL);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        return countOrNone("recvmmsg", n);
    }

    /**
     * Waits up to {@code timeoutMs} for a datagram to read; answers whether one is there. For a thread of its own
     * (the echo peer beside stream clients), which then sleeps instead of spinning when nothing comes.
     */
    boolean await(int timeoutMs) throws IOException {
        pollFd.set(ValueLayout.JAVA_INT, 0, fd);
        pollFd.set(ValueLayout.JAVA_SHORT, 4, POLLIN);
        pollFd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
        int n;
        try {
            n = (int) POLL.invokeExact(callState, pollFd, 1L, timeoutMs);
        } catch (Throwable t) {
            throw new IOException(t);
        }
        return countOrNone("poll", n) > 0;
    }

    /** A batch call's count, 0 for "would block" (or interrupted), and an exception for any other error. */
    private int countOrNone(String call, int n) throws IOException {
        if (n >= 0) {
            return n;
        }
        int errno = Libc.errno(callState);
        if (errno == Libc.EAGAIN || errno == Libc.EINTR) {
            return 0;
        }
        throw new IOException(call + " failed with errno " + errno);
    }

    /** The length of received datagram {@code i}. */
    int length(int i) {
        return messages.get(ValueLayout.JAVA_INT, (long) MMSGHDR * i + 56);
    }

    /** Datagram {@code i}, as received, goes back to its source at the next {@link #send}: the echo peer. */
    void echoPrepare(int i) {
        iovecLength(i, length(i));
        messages.set(ValueLayout.JAVA_INT, (long) MMSGHDR * i + 48, 0);
    }

    private void iovecLength(int i, int length) {
        iovecs.set(ValueLayout.JAVA_LONG, (long) IOVEC * i + 8, length);
    }

    private static void putName(MemorySegment name, int ip, int port) {
        name.set(ValueLayout.JAVA_SHORT, 0, (short) AF_INET); // host order
        name.set(NETWORK_SHORT, 2, (short) port);
        name.set(NETWORK_INT, 4, ip);
        name.set(ValueLayout.JAVA_LONG, 8, 0);
    }

    private int invoke(MethodHandle handle, Object... arguments) throws IOException {
        Object[] all = new Object[arguments.length + 1];
        all[0] = callState;
        System.arraycopy(arguments, 0, all, 1, arguments.length);
        try {
            return (int) handle.invokeWithArguments(all);
        } catch (Throwable t) {
            throw new IOException(t);
        }
    }

    private int check(String what, int result) throws IOException {
        if (result < 0) {
            throw new IOException(what + " failed with errno " + Libc.errno(callState));
        }
        return result;
    }

    @Override
    public void close() {
        try {
            invoke(CLOSE, fd);
        } catch (IOException e) {
            // closing at the end of a run: nothing to do about it
        }
        arena.close();
    }
}
