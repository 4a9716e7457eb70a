package dev.turnpike.benchmarks.generator;

import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A bounded soak of a running relay: many allocations, each from a source address of its own, with a channel
 * to one echo peer, relaying for the whole run; half are kept alive (ChannelBind and Refresh before anything
 * expires) and deleted at the end, the other half stop sending before their permission would lapse and are left
 * to expire. What the relay looks like afterwards (heap, descriptors, relay ports, drops) is measured by
 * {@code benchmarks/soak.sh}, which runs this.
 */
@Command(name = "soak", mixinStandardHelpOptions = true, description = "Bounded soak of a TURN relay")
public final class Soak implements Callable<Integer> {
    private static final int CHANNEL = 0x4000;
    /** Permissions last 300 s (RFC 8656 §9): the expiring half stops sending well before. */
    private static final long STOP_EXPIRING_HALF_SECONDS = 240;
    /** Refreshes of the kept half, before any permission (300 s) or allocation (600 s) would lapse. */
    private static final long[] REFRESH_AT_SECONDS = {200, 400};

    @Option(names = "--server", defaultValue = "127.0.0.1:3478")
    String server;

    @Option(names = "--secret", required = true, description = "The relay's --auth-secret.")
    String secret;

    @Option(names = "--realm", defaultValue = "example.org")
    String realm;

    @Option(names = "--allocations", defaultValue = "10000")
    int allocations;

    @Option(names = "--seconds", defaultValue = "660", description = "How long traffic runs (at least 620).")
    long seconds;

    @Option(names = "--rate", defaultValue = "2000", description = "ChannelData messages a second, all clients.")
    int rate;

    @Option(names = "--payload", defaultValue = "160")
    int payload;

    public static void main(String[] args) {
        System.exit(new CommandLine(new Soak()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        String[] hostPort = server.split(":");
        InetSocketAddress relay = new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1]));
        List<TurnClient> clients = new ArrayList<>(allocations);
        long sent = 0;
        long received = 0;
        try (EchoPeer peer = new EchoPeer("127.0.0.1");
                Selector selector = Selector.open()) {
            long setUpStart = System.nanoTime();
            for (int i = 0; i < allocations; i++) {
                // a source address of its own: the per-IP limits are not what this measures
                String source = "127.1." + (i / 250) + "." + (i % 250 + 1);
                TurnClient client =
                        TurnClient.withSecret(relay, new InetSocketAddress(source, 0), "soak-" + i, secret, realm);
                clients.add(client);
                client.allocate(600);
                client.channelBind(CHANNEL, peer.address());
            }
            log("allocated " + allocations + " in " + (System.nanoTime() - setUpStart) / 1_000_000 + " ms");
            register(clients, selector);

            ByteBuffer out = ByteBuffer.allocateDirect(4 + payload);
            ByteBuffer in = ByteBuffer.allocateDirect(65_536);
            long startNs = System.nanoTime();
            long endNs = startNs + seconds * 1_000_000_000L;
            int refreshes = 0;
            int next = 0;
            boolean expiringHalfStopped = false;
            while (System.nanoTime() < endNs) {
                long elapsedS = (System.nanoTime() - startNs) / 1_000_000_000L;
                if (!expiringHalfStopped && elapsedS >= STOP_EXPIRING_HALF_SECONDS) {
                    expiringHalfStopped = true;
                    log("expiring half stops sending at " + elapsedS + " s");
                }
                if (refreshes < REFRESH_AT_SECONDS.length && elapsedS >= REFRESH_AT_SECONDS[refreshes]) {
                    received += drain(selector, in);
                    refreshKeptHalf(clients, peer.address());
                    refreshes++;
                    log("kept half refreshed at " + elapsedS + " s");
                }
                // one tick of 10 ms: rate/100 messages, round robin over the clients still sending
                for (int k = 0; k < Math.max(1, rate / 100); k++) {
                    // after the expiring half stops, only the kept half (even indexes) sends
                    int index = expiringHalfStopped ? 2 * (next % ((allocations + 1) / 2)) : next % allocations;
                    TurnClient client = clients.get(index);
                    next++;
                    out.clear();
                    out.putShort((short) CHANNEL)
                            .putShort((short) payload)
                            .position(4 + payload)
                            .flip();
                    client.channel().send(out, relay);
                    sent++;
                }
                long tickEnd = System.nanoTime() + 10_000_000L;
                while (System.nanoTime() < tickEnd) {
                    received += drain(selector, in);
                }
            }
            received += drain(selector, in);
            log("traffic done: sent " + sent + ", echoed back " + received + ", echo peer saw " + peer.echoed.get());
            int deleted = 0;
            for (int i = 0; i < clients.size(); i += 2) { // the kept half: delete
                TurnClient client = clients.get(i);
                client.refresh(0);
                deleted++;
            }
            log("deleted the kept half: " + deleted);
            System.out.println("{\"allocations\":" + allocations + ",\"seconds\":" + seconds + ",\"sent\":" + sent
                    + ",\"received\":" + received + ",\"deleted\":" + deleted + "}");
        } finally {
            for (TurnClient client : clients) {
                client.close();
            }
        }
        return 0;
    }

    private static void register(List<TurnClient> clients, Selector selector) throws IOException {
        for (TurnClient client : clients) {
            client.channel().register(selector, SelectionKey.OP_READ, client);
        }
    }

    /** Reads whatever echoes have arrived; answers how many. */
    private static long drain(Selector selector, ByteBuffer in) throws IOException {
        long n = 0;
        if (selector.selectNow() == 0) {
            return 0;
        }
        for (SelectionKey key : selector.selectedKeys()) {
            TurnClient client = (TurnClient) key.attachment();
            while (client.channel().receive(in.clear()) != null) {
                n++;
            }
        }
        selector.selectedKeys().clear();
        return n;
    }

    /** The kept half (even indexes): ChannelBind again (refreshes the permission too) and Refresh. */
    private static void refreshKeptHalf(List<TurnClient> clients, InetSocketAddress peer) throws IOException {
        for (int i = 0; i < clients.size(); i += 2) {
            TurnClient client = clients.get(i);
            client.channelBind(CHANNEL, peer); // echoes still in flight are skipped: they are not its response
            client.refresh(600);
        }
    }

    private static void log(String line) {
        System.err.println("soak: " + line);
    }
}
