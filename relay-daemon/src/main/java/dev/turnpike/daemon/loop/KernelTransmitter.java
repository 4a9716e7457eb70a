package dev.turnpike.daemon.loop;

import dev.turnpike.daemon.sys.Libc;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The real kernel. A datagram with a payload goes through {@link java.nio.channels.DatagramChannel#send}, which
 * answers its length when sent and 0 when the buffer is full. An empty datagram (legal: a ChannelData message
 * of Length 0, RFC 8656 §12.4, or a Send indication with an empty DATA) is the one case where 0 is ambiguous,
 * so it goes through {@code sendto(2)} itself, whose -1 with EAGAIN is unambiguous. Where that call is
 * unavailable (not Linux, or no access to the descriptor), a 0 for an empty datagram counts as sent: losing
 * one empty datagram to a full buffer is better than queueing it for ever.
 */
public final class KernelTransmitter implements Transmitter {
    private static final int MSG_DONTWAIT = 0x40;
    private static final short AF_INET = 2;
    private static final short AF_INET6 = 10;
    private static final ValueLayout.OfShort NETWORK_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final MethodHandle SENDTO;

    static {
        MethodHandle sendto = null;
        if (BatchReceiver.AVAILABLE) { // Linux, with native access and the descriptor readable
            try {
                sendto = Libc.downcall("sendto", Libc.SENDTO, true);
            } catch (RuntimeException e) {
                sendto = null;
            }
        }
        SENDTO = sendto;
    }

    private final MemorySegment name;
    private final MemorySegment callState;

    public KernelTransmitter() {
        Arena arena = Arena.ofAuto();
        this.name = SENDTO == null ? null : arena.allocate(28, 8); // sockaddr_in6, the larger of the two
        this.callState = SENDTO == null ? null : Libc.callState(arena);
    }

    /** Whether an empty datagram's fate is known exactly (sendto) rather than assumed sent. */
    public static boolean exactForEmptyDatagrams() {
        return SENDTO != null;
    }

    @Override
    public boolean transmit(UdpSocket socket, ByteBuffer data, InetSocketAddress destination) throws IOException {
        if (data.hasRemaining()) {
            return socket.channel.send(data, destination) > 0;
        }
        if (SENDTO == null || socket.fd < 0) {
            socket.channel.send(data, destination);
            return true;
        }
        return sendEmpty(socket.fd, socket.ipv6, destination);
    }

    private boolean sendEmpty(int fd, boolean ipv6Socket, InetSocketAddress destination) throws IOException {
        name.fill((byte) 0);
        byte[] ip = destination.getAddress().getAddress();
        if (ipv6Socket && ip.length == 4) {
            // a dual-stack socket reaches an IPv4 address by its mapped form, ::ffff:a.b.c.d
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xFF;
            mapped[11] = (byte) 0xFF;
            System.arraycopy(ip, 0, mapped, 12, 4);
            ip = mapped;
        }
        int length;
        if (ip.length == 4) {
            // struct sockaddr_in: family (host order), port and address (network order)
            name.set(ValueLayout.JAVA_SHORT, 0, AF_INET);
            name.set(NETWORK_SHORT, 2, (short) destination.getPort());
            MemorySegment.copy(ip, 0, name, ValueLayout.JAVA_BYTE, 4, 4);
            length = 16;
        } else {
            // struct sockaddr_in6: family, port, flowinfo, address, scope id
            name.set(ValueLayout.JAVA_SHORT, 0, AF_INET6);
            name.set(NETWORK_SHORT, 2, (short) destination.getPort());
            MemorySegment.copy(ip, 0, name, ValueLayout.JAVA_BYTE, 8, 16);
            length = 28;
        }
        while (true) {
            long n;
            try {
                n = (long) SENDTO.invokeExact(callState, fd, MemorySegment.NULL, 0L, MSG_DONTWAIT, name, length);
            } catch (Throwable t) {
                throw new IllegalStateException("sendto downcall failed", t);
            }
            if (n >= 0) {
                return true;
            }
            int errno = Libc.errno(callState);
            if (errno == Libc.EAGAIN) {
                return false;
            }
            if (errno != Libc.EINTR) {
                throw new IOException("sendto of an empty datagram failed with errno " + errno);
            }
        }
    }
}
