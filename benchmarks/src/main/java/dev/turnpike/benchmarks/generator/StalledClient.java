package dev.turnpike.benchmarks.generator;

import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.locks.LockSupport;

/**
 * The head-of-line test's culprit: a TURN client over TCP that never reads, with a UDP peer sending it
 * {@code MBITS} Mbit/s through the relay. When the relay closes the connection at its queue bound, it connects and
 * allocates again, so the pressure lasts. Run it beside the load generator to see what one client that does not
 * read costs everyone else: {@code StalledClient SERVER_IP:PORT MBITS SECONDS}.
 */
public final class StalledClient {
    private StalledClient() {}

    public static void main(String[] args) throws Exception {
        String[] hostPort = args[0].split(":");
        InetSocketAddress server =
                new InetSocketAddress(InetAddress.getByName(hostPort[0]), Integer.parseInt(hostPort[1]));
        double mbits = Double.parseDouble(args[1]);
        long end = System.nanoTime() + Long.parseLong(args[2]) * 1_000_000_000L;
        byte[] payload = new byte[1_200];
        long intervalNs = (long) (payload.length * 8 / (mbits * 1e6) * 1e9);
        int connections = 0;
        long sent = 0;
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            while (System.nanoTime() < end) {
                TurnClient stalled = TurnClient.overTcp(server, "alice", "wonderland", null, 10_000);
                stalled.receiveBuffer(4_096); // as small as the kernel allows: the relay's queue for it fills sooner
                InetSocketAddress relayed = stalled.allocate(3600);
                stalled.channelBind(0x4FFF, (InetSocketAddress) peer.getLocalSocketAddress());
                connections++;
                DatagramPacket packet = new DatagramPacket(payload, payload.length, relayed);
                long next = System.nanoTime();
                // send until the relay closes the connection (seen as a failed write of a keepalive)
                while (System.nanoTime() < end) {
                    peer.send(packet);
                    sent++;
                    next += intervalNs;
                    LockSupport.parkNanos(Math.max(0, next - System.nanoTime()));
                    if (sent % 1_000 == 0 && closed(stalled)) {
                        break;
                    }
                }
                stalled.close();
            }
        }
        System.out.printf("stalled client: %d connections, %d datagrams sent toward it%n", connections, sent);
    }

    /** Whether the relay has closed the connection: a write then fails (a reset). */
    private static boolean closed(TurnClient client) {
        try {
            client.send(java.nio.ByteBuffer.wrap(new byte[] {0x4F, (byte) 0xFF, 0, 0}));
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
