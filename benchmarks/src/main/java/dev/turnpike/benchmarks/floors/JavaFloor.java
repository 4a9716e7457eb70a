package dev.turnpike.benchmarks.floors;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.HashMap;
import java.util.Map;

/**
 * The Java floor: {@code benchmarks/c-floor/floor.c}, line for line, in Java with the JDK's NIO. Not a TURN
 * server: just enough TURN over UDP for the load generator (Allocate, ChannelBind, Refresh, ChannelData both
 * ways, IPv4), no authentication, permissions, policy or expiry. The same syscalls as the C floor (one select,
 * then one receive per datagram until the socket is empty, one send per datagram), so that the difference
 * between the two is what the JVM adds to that path (the selector, the JNI transitions, an address object per
 * received datagram), and the difference between it and Turnpike is what Turnpike's TURN work and its batching
 * add and save. For docs/benchmarks.md (issue 12), run by {@code side-by-side.sh} as the server
 * {@code java-floor}:
 *
 * <pre>java -cp benchmarks/target/benchmarks.jar dev.turnpike.benchmarks.floors.JavaFloor 127.0.0.1 3478 127.0.0.1</pre>
 */
public final class JavaFloor {
    private static final int MAGIC = 0x2112A442;
    private static final int MAX_CHANNELS = 8;
    private static final int RECEIVE_BUFFER = 4 << 20; // as Turnpike's default --receive-buffer

    /** One client's relay socket and channels, as floor.c's {@code struct allocation}. */
    private static final class Allocation {
        final DatagramChannel socket;
        final InetSocketAddress client;
        int channels;
        final int[] number = new int[MAX_CHANNELS];
        final InetSocketAddress[] peer = new InetSocketAddress[MAX_CHANNELS];

        Allocation(DatagramChannel socket, InetSocketAddress client) {
            this.socket = socket;
            this.client = client;
        }
    }

    private final Map<InetSocketAddress, Allocation> byClient = new HashMap<>();
    private final DatagramChannel listener;
    private final Selector selector;
    private final InetAddress relayIp;
    /** Room in front of a peer's payload for the ChannelData header, as floor.c's buffer. */
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(4 + 65_536);

    private final ByteBuffer response = ByteBuffer.allocateDirect(512);

    private JavaFloor(InetSocketAddress listen, InetAddress relayIp) throws IOException {
        this.relayIp = relayIp;
        selector = Selector.open();
        listener = DatagramChannel.open(StandardProtocolFamily.INET); // AF_INET, as floor.c
        listener.setOption(StandardSocketOptions.SO_RCVBUF, RECEIVE_BUFFER);
        listener.bind(listen);
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_READ, null);
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: JavaFloor LISTEN_IP PORT RELAY_IP");
            System.exit(2);
        }
        JavaFloor floor = new JavaFloor(
                new InetSocketAddress(InetAddress.getByName(args[0]), Integer.parseInt(args[1])),
                InetAddress.getByName(args[2]));
        System.err.println("java-floor listening on " + args[0] + ":" + args[1]);
        floor.run(); // until killed, as floor.c
    }

    private void run() throws IOException {
        while (true) {
            selector.select(this::onReady, 1_000);
        }
    }

    private void onReady(SelectionKey key) {
        try {
            if (key.attachment() instanceof Allocation a) {
                fromPeer(a);
                return;
            }
            while (true) {
                buffer.clear().position(4);
                SocketAddress client = listener.receive(buffer);
                if (client == null) {
                    return; // drained
                }
                fromClient((InetSocketAddress) client, buffer.position() - 4);
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private void fromClient(InetSocketAddress client, int length) throws IOException {
        if (length >= 4 && (buffer.get(4) & 0xC0) == 0x40) { // ChannelData
            int number = buffer.getShort(4) & 0xFFFF;
            int dataLength = buffer.getShort(6) & 0xFFFF;
            Allocation a = byClient.get(client);
            if (a == null || dataLength + 4 > length) {
                return;
            }
            for (int i = 0; i < a.channels; i++) {
                if (a.number[i] == number) {
                    buffer.limit(8 + dataLength).position(8);
                    a.socket.send(buffer, a.peer[i]);
                    return;
                }
            }
            return;
        }
        if (length < 20) {
            return;
        }
        int messageLength = 20 + (buffer.getShort(6) & 0xFFFF);
        if (buffer.getInt(8) != MAGIC || messageLength > length) {
            return;
        }
        switch (buffer.getShort(4) & 0xFFFF) {
            case 0x0003 -> allocate(client);
            case 0x0009 -> channelBind(client, messageLength);
            case 0x0004 -> { // Refresh: the allocation lives until the process ends
                response.clear().position(20);
                putLifetime();
                respond(0x0104, client);
            }
            default -> {}
        }
    }

    private void allocate(InetSocketAddress client) throws IOException {
        Allocation a = byClient.get(client);
        if (a == null) {
            DatagramChannel socket = DatagramChannel.open(StandardProtocolFamily.INET); // AF_INET, as floor.c
            socket.setOption(StandardSocketOptions.SO_RCVBUF, RECEIVE_BUFFER);
            socket.bind(new InetSocketAddress(relayIp, 0));
            socket.configureBlocking(false);
            a = new Allocation(socket, client);
            byClient.put(client, a);
            socket.register(selector, SelectionKey.OP_READ, a);
        }
        response.clear().position(20);
        putXorAddress(0x0016, (InetSocketAddress) a.socket.getLocalAddress()); // XOR-RELAYED-ADDRESS
        putLifetime();
        putXorAddress(0x0020, client); // XOR-MAPPED-ADDRESS
        respond(0x0103, client);
    }

    private void channelBind(InetSocketAddress client, int messageLength) throws IOException {
        Allocation a = byClient.get(client);
        int number = attribute(messageLength, 0x000C);
        int peer = attribute(messageLength, 0x0012);
        if (a == null || number < 0 || peer < 0 || (buffer.getShort(peer - 2) & 0xFFFF) != 8) {
            return; // the load generator times out: a floor needs no error responses
        }
        if (a.channels == MAX_CHANNELS) {
            return;
        }
        int port = (buffer.getShort(peer + 2) ^ (MAGIC >>> 16)) & 0xFFFF;
        int ip = buffer.getInt(peer + 4) ^ MAGIC;
        byte[] address = {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
        a.peer[a.channels] = new InetSocketAddress(InetAddress.getByAddress(address), port);
        a.number[a.channels++] = buffer.getShort(number) & 0xFFFF;
        response.clear().position(20);
        respond(0x0109, client);
    }

    /** Where the first attribute of this type starts its value in {@link #buffer}, or -1. */
    private int attribute(int messageLength, int type) {
        int at = 20;
        while (at + 4 <= messageLength) {
            int t = buffer.getShort(4 + at) & 0xFFFF;
            int l = buffer.getShort(4 + at + 2) & 0xFFFF;
            if (at + 4 + l > messageLength) {
                return -1;
            }
            if (t == type) {
                return 4 + at + 4;
            }
            at += 4 + ((l + 3) & ~3);
        }
        return -1;
    }

    private void putLifetime() {
        response.putShort((short) 0x000D).putShort((short) 4).putInt(600);
    }

    private void putXorAddress(int type, InetSocketAddress a) {
        byte[] ip = a.getAddress().getAddress();
        int value = ((ip[0] & 0xFF) << 24) | ((ip[1] & 0xFF) << 16) | ((ip[2] & 0xFF) << 8) | (ip[3] & 0xFF);
        response.putShort((short) type).putShort((short) 8).putShort((short) 1);
        response.putShort((short) (a.getPort() ^ (MAGIC >>> 16))).putInt(value ^ MAGIC);
    }

    /** A success response to the request in {@link #buffer}: the same transaction, the attributes already put. */
    private void respond(int type, InetSocketAddress client) throws IOException {
        int end = response.position();
        response.putShort(0, (short) type).putShort(2, (short) (end - 20));
        for (int i = 0; i < 16; i++) {
            response.put(4 + i, buffer.get(8 + i)); // the request's magic cookie and transaction id
        }
        response.flip();
        listener.send(response, client);
    }

    private void fromPeer(Allocation a) throws IOException {
        while (true) {
            buffer.clear().position(4);
            SocketAddress peer = a.socket.receive(buffer);
            if (peer == null) {
                return; // drained
            }
            int n = buffer.position() - 4;
            for (int i = 0; i < a.channels; i++) {
                if (a.peer[i].equals(peer)) {
                    buffer.putShort(0, (short) a.number[i]).putShort(2, (short) n);
                    buffer.limit(4 + n).position(0);
                    listener.send(buffer, a.client);
                    break;
                }
            }
        }
    }
}
