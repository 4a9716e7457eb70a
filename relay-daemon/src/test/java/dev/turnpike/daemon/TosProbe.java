package dev.turnpike.daemon;

import dev.turnpike.daemon.loop.BatchReceiver;
import dev.turnpike.daemon.sys.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.StandardSocketOptions;
import java.nio.channels.DatagramChannel;

/**
 * A test's own view of the TOS byte / Traffic Class on the wire, written apart from the relay's code (one {@code
 * recvmsg(2)} with a struct layout, not the relay's {@code recvmmsg} slots), so that a mistake in the relay's
 * reading cannot hide itself here: the socket is asked for each datagram's byte ({@code IP_RECVTOS}, and {@code
 * IPV6_RECVTCLASS} on IPv6), and {@link #receive} answers it with the payload. Sending with a byte is the JDK's own
 * {@code IP_TOS} option, which sets the Traffic Class on an IPv6 socket.
 */
@SuppressWarnings("restricted")
public final class TosProbe implements AutoCloseable {
    private static final MethodHandle SETSOCKOPT = Libc.downcall("setsockopt", Libc.SETSOCKOPT, false);
    private static final MethodHandle RECVMSG = Libc.downcall(
            "recvmsg",
            FunctionDescriptor.of(
                    ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
            false);
    private static final StructLayout MSGHDR = MemoryLayout.structLayout(
            ValueLayout.ADDRESS.withName("name"),
            ValueLayout.JAVA_INT.withName("namelen"),
            MemoryLayout.paddingLayout(4),
            ValueLayout.ADDRESS.withName("iov"),
            ValueLayout.JAVA_LONG.withName("iovlen"),
            ValueLayout.ADDRESS.withName("control"),
            ValueLayout.JAVA_LONG.withName("controllen"),
            ValueLayout.JAVA_INT.withName("flags"),
            MemoryLayout.paddingLayout(4));
    private static final int MSG_DONTWAIT = 0x40;

    /** A datagram as received: its payload and the byte its IP header carried. */
    public record Received(byte[] payload, int tos) {}

    public final DatagramChannel channel;
    private final int fd;
    private final Arena arena = Arena.ofConfined();

    /** Probes {@code channel}, which stays the caller's to send on (and to close, with this). */
    public TosProbe(DatagramChannel channel, boolean ipv6) throws Throwable {
        this.channel = channel;
        this.fd = BatchReceiver.fd(channel);
        MemorySegment one = arena.allocate(ValueLayout.JAVA_INT);
        one.set(ValueLayout.JAVA_INT, 0, 1);
        check((int) SETSOCKOPT.invokeExact(fd, 0, 13, one, 4), "IP_RECVTOS");
        if (ipv6) {
            check((int) SETSOCKOPT.invokeExact(fd, 41, 66, one, 4), "IPV6_RECVTCLASS");
        }
    }

    private static void check(int result, String what) {
        if (result != 0) {
            throw new IllegalStateException("setsockopt " + what + " failed");
        }
    }

    /** Marks what this channel sends from now on. */
    void sendWith(int tos) throws IOException {
        channel.setOption(StandardSocketOptions.IP_TOS, tos);
    }

    /** The next datagram within {@code timeoutMs}, or null. */
    public Received receive(long timeoutMs) throws Throwable {
        MemorySegment data = arena.allocate(65_536);
        MemorySegment control = arena.allocate(256, 8);
        MemorySegment iov = arena.allocate(16, 8);
        iov.set(ValueLayout.ADDRESS, 0, data);
        iov.set(ValueLayout.JAVA_LONG, 8, data.byteSize());
        MemorySegment msg = arena.allocate(MSGHDR);
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (System.nanoTime() - deadline < 0) {
            msg.fill((byte) 0);
            msg.set(ValueLayout.ADDRESS, MSGHDR.byteOffset(MemoryLayout.PathElement.groupElement("iov")), iov);
            msg.set(ValueLayout.JAVA_LONG, MSGHDR.byteOffset(MemoryLayout.PathElement.groupElement("iovlen")), 1);
            msg.set(ValueLayout.ADDRESS, MSGHDR.byteOffset(MemoryLayout.PathElement.groupElement("control")), control);
            long controllenAt = MSGHDR.byteOffset(MemoryLayout.PathElement.groupElement("controllen"));
            msg.set(ValueLayout.JAVA_LONG, controllenAt, control.byteSize());
            long n = (long) RECVMSG.invokeExact(fd, msg, MSG_DONTWAIT);
            if (n < 0) {
                Thread.sleep(2);
                continue;
            }
            long controllen = msg.get(ValueLayout.JAVA_LONG, controllenAt);
            int tos = -1;
            long at = 0;
            while (at + 16 <= controllen) {
                long length = control.get(ValueLayout.JAVA_LONG, at);
                int level = control.get(ValueLayout.JAVA_INT, at + 8);
                int type = control.get(ValueLayout.JAVA_INT, at + 12);
                if (level == 0 && type == 1) {
                    tos = control.get(ValueLayout.JAVA_BYTE, at + 16) & 0xFF;
                } else if (level == 41 && type == 67) {
                    tos = control.get(ValueLayout.JAVA_INT, at + 16) & 0xFF;
                }
                at += (length + 7) / 8 * 8;
            }
            return new Received(data.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), tos);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        arena.close();
        channel.close();
    }
}
