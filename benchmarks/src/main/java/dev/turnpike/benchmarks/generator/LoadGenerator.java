package dev.turnpike.benchmarks.generator;

import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * End-to-end load against any TURN server: N allocations, each with a channel to one echo peer, ChannelData at
 * fixed offered rates (round trips per second), then optionally a saturation search. Reports offered and
 * delivered rates, loss, RTT percentiles and the relay process's CPU per relayed packet (both directions),
 * one JSON object a line. It says when it, not the relay, was the bottleneck.
 *
 * <p>Longer than 400 lines: the flags, the client set-up, the paced sending and the measuring window share the
 * state of one run and are read in that order; the parts with an existence of their own are beside it in this
 * package ({@link BatchedUdp}, {@link EchoPeer}, {@link ProcessCpu}, {@link SocketDrops}).
 */
@Command(name = "loadgen", mixinStandardHelpOptions = true, description = "TURN relay load generator")
public final class LoadGenerator implements Callable<Integer> {
    /** ChannelData fields in the batched slots, in network order. */
    private static final ValueLayout.OfShort NETWORK_SHORT =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private static final ValueLayout.OfLong NETWORK_LONG =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    @Option(names = "--server", required = true, description = "TURN server IP:PORT (IPv4)")
    String server;

    @Option(names = "--user", defaultValue = "alice")
    String user;

    @Option(names = "--password", defaultValue = "wonderland")
    String password;

    @Option(names = "--secret", description = "use shared-secret credentials instead of --password")
    String secret;

    @Option(names = "--realm", defaultValue = "example.org", description = "expected realm (the server's 401 decides)")
    String realm;

    @Option(names = "--pid", description = "the relay's process id, for CPU per packet")
    Long pid;

    @Option(names = "--label", defaultValue = "server")
    String label;

    @Option(names = "--allocations", defaultValue = "100")
    int allocations;

    @Option(
            names = "--rates",
            split = ",",
            defaultValue = "10000,20000",
            description = "offered round trips per second")
    List<Integer> rates;

    @Option(
            names = "--initial-warmup-seconds",
            defaultValue = "10",
            description = "unmeasured load at the first rate before anything is measured (a JIT warms up)")
    int initialWarmupSeconds;

    @Option(names = "--warmup-seconds", defaultValue = "3")
    int warmupSeconds;

    @Option(names = "--seconds", defaultValue = "10")
    int seconds;

    @Option(names = "--payload", defaultValue = "160", description = "ChannelData payload bytes")
    int payload;

    @Option(
            names = "--saturate",
            description = "after the fixed rates, search for the highest rate with < 1% loss and >= 99% delivered")
    boolean saturate;

    @Option(
            names = "--saturate-only",
            description = "no fixed rates: the warm-up at --saturate-start, then the search (side-by-side.sh runs it "
                    + "with --batched after the fixed rates with the default generator)")
    boolean saturateOnly;

    @Option(names = "--saturate-start", defaultValue = "20000")
    int saturateStart;

    @Option(names = "--saturate-factor", defaultValue = "1.15")
    double saturateFactor;

    @Option(
            names = "--saturate-refine",
            defaultValue = "3",
            description =
                    "bisection steps between the last rate that held and the first that did not (3: ~2% resolution)")
    int saturateRefine;

    @Option(names = "--local-ip", defaultValue = "127.0.0.1")
    String localIp;

    @Option(
            names = "--many-sources",
            description = "each client on a source address of its own, 127.100.X.Y (all of 127/8 is local on Linux), "
                    + "as real clients are: the relay sees as many source IPs as allocations")
    boolean manySources;

    @Option(
            names = "--metrics",
            description = "the relay's Prometheus endpoint (Turnpike's /metrics), to report packets per loop wakeup")
    String metricsUrl;

    @Option(names = "--peer-ip", defaultValue = "127.0.0.1")
    String peerIp;

    @Option(
            names = "--transport",
            defaultValue = "udp",
            description = "how clients reach the relay: udp, tcp or tls (the relayed side is UDP in every case)")
    String transport;

    @Option(names = "--out", description = "append result lines to this file too")
    Path out;

    @Option(
            names = "--peer",
            description = "an echo peer already running elsewhere (IP:PORT), e.g. behind a slow link; "
                    + "relayed packets are then counted as twice those echoed back")
    String externalPeer;

    @Option(
            names = "--burst",
            defaultValue = "0",
            description = "send in bursts of this many packets at the average rate (0: evenly)")
    int burst;

    @Option(
            names = "--batched",
            description = "one thread and two sockets instead of a hundred: the clients send with sendmmsg from one "
                    + "socket, each from its own address (IP_PKTINFO), and receive with recvmmsg; the echo peer "
                    + "too. Costs the generator several times less per packet, so that it can outrun a relay on a "
                    + "CPU of its own (the saturation search); arrivals come in the batches of a 50 us tick. UDP "
                    + "with --many-sources and --password only; over TCP or TLS, the echo peer alone is batched (a "
                    + "thread of its own), and --messages-per-write gathers the clients' writes")
    boolean batched;

    @Option(
            names = "--messages-per-write",
            defaultValue = "1",
            description = "over TCP or TLS: each write carries this many ChannelData messages to one client's "
                    + "connection (one TLS record), sent in whole groups at the average rate; 1: a write each")
    int messagesPerWrite;

    private InetSocketAddress serverAddress;

    /** With --batched: the clients' shared socket and the echo peer's, and what each client sends from. */
    private BatchedUdp batchedClients;

    private BatchedUdp batchedPeer;
    private int[] clientIps;
    private int[] clientChannels;
    private final AtomicLong batchedEchoed = new AtomicLong();

    private final AtomicLong received = new AtomicLong();
    private final Recorder rtt = new Recorder(3);
    private final List<TurnClient> clients = new ArrayList<>();
    /** With --transport tcp or tls: the clients, each read by a thread of its own. */
    private final List<TurnClient> streamClients = new ArrayList<>();

    private final List<Thread> streamReaders = new ArrayList<>();
    private volatile boolean receiving = true;

    record Result(
            String label,
            String phase,
            int offered,
            double sentRate,
            double deliveredRate,
            double loss,
            double rttP50Us,
            double rttP99Us,
            double rttP999Us,
            double relayCpuSeconds,
            long relayedPackets,
            double cpuSecondsPerMillionPackets,
            long generatorSocketDrops,
            boolean generatorLimited,
            double packetsPerWakeup,
            double generatorCpu,
            double userSecondsPerMillionPackets) {
        String json() {
            return String.format(
                    Locale.ROOT,
                    "{\"label\":\"%s\",\"phase\":\"%s\",\"offered\":%d,\"sentRate\":%.0f,\"deliveredRate\":%.0f,\"loss\":%.5f,"
                            + "\"rttP50Us\":%.1f,\"rttP99Us\":%.1f,\"rttP999Us\":%.1f,\"relayCpuSeconds\":%.3f,"
                            + "\"relayedPackets\":%d,\"cpuSecondsPerMillionPackets\":%.3f,\"generatorSocketDrops\":%d,"
                            + "\"generatorLimited\":%b,\"packetsPerWakeup\":%.2f,\"generatorCpu\":%.2f,"
                            + "\"userSecondsPerMillionPackets\":%.3f}",
                    label,
                    phase,
                    offered,
                    sentRate,
                    deliveredRate,
                    loss,
                    rttP50Us,
                    rttP99Us,
                    rttP999Us,
                    relayCpuSeconds,
                    relayedPackets,
                    cpuSecondsPerMillionPackets,
                    generatorSocketDrops,
                    generatorLimited,
                    packetsPerWakeup,
                    generatorCpu,
                    userSecondsPerMillionPackets);
        }
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new LoadGenerator()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        String[] hostPort = server.split(":");
        serverAddress = new InetSocketAddress(InetAddress.getByName(hostPort[0]), Integer.parseInt(hostPort[1]));
        try (EchoPeer peer = new EchoPeer(peerIp);
                Selector selector = Selector.open()) {
            InetSocketAddress peerAddress = peer.address();
            boolean udp = transport.equals("udp");
            if (messagesPerWrite < 1 || (messagesPerWrite > 1 && udp)) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "--messages-per-write: at least 1, and over TCP or TLS only");
            }
            if (batched) {
                if ((udp && (!manySources || secret != null)) || externalPeer != null) {
                    throw new CommandLine.ParameterException(
                            new CommandLine(this),
                            "--batched: UDP with --many-sources and --password, or TCP or TLS; no --peer");
                }
                batchedPeer = new BatchedUdp(ipv4(InetAddress.getByName(peerIp)), 0, false);
                peerAddress = new InetSocketAddress(InetAddress.getByName(peerIp), batchedPeer.port());
                if (udp) {
                    batchedClients = new BatchedUdp(0, 0, true);
                    clientIps = new int[allocations];
                    clientChannels = new int[allocations];
                } else {
                    Thread echo = new Thread(this::echoBatched, "echo-peer-batched");
                    echo.setDaemon(true);
                    echo.start();
                }
            }
            if (externalPeer != null) {
                String[] p = externalPeer.split(":");
                peerAddress = new InetSocketAddress(InetAddress.getByName(p[0]), Integer.parseInt(p[1]));
            }
            long setupStart = System.nanoTime();
            int roundTrips = 0;
            boolean streams = !transport.equals("udp");
            for (int i = 0; streams && i < allocations; i++) {
                // TLS takes any certificate: relays on loopback with certificates made for the run
                TurnClient client = transport.equals("tls")
                        ? TurnClient.overTls(serverAddress, null, false, user, password, null, 10_000)
                        : TurnClient.overTcp(serverAddress, user, password, null, 10_000);
                client.setUp(peerAddress, 0x4000 + (i % 0x1000));
                streamClients.add(client);
                Thread reader = new Thread(() -> readStream(client), "reader-" + i);
                reader.setDaemon(true);
                reader.start();
                streamReaders.add(reader);
            }
            for (int i = 0; !streams && i < allocations; i++) {
                InetSocketAddress local = manySources
                        ? new InetSocketAddress(InetAddress.getByName("127.100." + (i / 250) + "." + (i % 250 + 1)), 0)
                        : new InetSocketAddress(localIp, 0);
                if (batched) {
                    // set up from the port the shared socket holds, on the client's own address; that socket
                    // receives what comes to the address once this one has closed
                    DatagramChannel own = DatagramChannel.open(StandardProtocolFamily.INET);
                    own.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    try (TurnClient client = new TurnClient(
                            serverAddress,
                            own,
                            new InetSocketAddress(local.getAddress(), batchedClients.port()),
                            user,
                            password,
                            realm)) {
                        client.setUp(peerAddress, 0x4000 + (i % 0x1000));
                        roundTrips += client.roundTrips();
                        clientIps[i] = ipv4(local.getAddress());
                        clientChannels[i] = client.channelNumber();
                    }
                    continue;
                }
                TurnClient client = secret != null
                        ? TurnClient.withSecret(serverAddress, local, user, secret, realm)
                        : new TurnClient(serverAddress, local, user, password, realm);
                client.setUp(peerAddress, 0x4000 + (i % 0x1000));
                roundTrips += client.roundTrips();
                client.channel().register(selector, SelectionKey.OP_READ, client);
                clients.add(client);
            }
            if (streams) {
                roundTrips = 3 * allocations; // a 401, an Allocate, a ChannelBind each
            }
            double setupSeconds = (System.nanoTime() - setupStart) / 1e9;
            System.out.printf(
                    Locale.ROOT,
                    "%s: %d allocations with channels set up in %.2f s (%.0f request round trips/s, 401s included)%n",
                    label,
                    allocations,
                    setupSeconds,
                    roundTrips / setupSeconds);
            Set<Integer> ownPorts = new HashSet<>();
            ownPorts.add(peer.address().getPort());
            if (batched) {
                ownPorts.add(batchedPeer.port());
            }
            if (batchedClients != null) {
                ownPorts.add(batchedClients.port());
            }
            for (TurnClient client : clients) {
                ownPorts.add(((InetSocketAddress) client.channel().getLocalAddress()).getPort());
            }
            Thread receiver = new Thread(() -> receive(selector), "receiver");
            receiver.start();
            try {
                if (initialWarmupSeconds > 0) {
                    phase(
                            "warmup",
                            saturateOnly ? saturateStart : rates.get(0),
                            initialWarmupSeconds,
                            0,
                            peer,
                            ownPorts);
                }
                for (int rate : saturateOnly ? List.<Integer>of() : rates) {
                    report(phase("fixed", rate, warmupSeconds, seconds, peer, ownPorts));
                }
                if (saturate || saturateOnly) {
                    Result best = null;
                    double rate = saturateStart;
                    double failed = -1;
                    for (int step = 0; step < 20; step++) {
                        Result r = phase("search", (int) rate, 2, 5, peer, ownPorts);
                        report(r);
                        if (!held(r)) {
                            failed = rate;
                            break;
                        }
                        best = r;
                        rate *= saturateFactor;
                    }
                    // The coarse steps bracket the limit; bisect the bracket so that ratios between servers are not
                    // quantised to the step factor.
                    for (int step = 0; best != null && failed > 0 && step < saturateRefine; step++) {
                        double middle = (best.offered() + failed) / 2;
                        Result r = phase("search", (int) middle, 2, 5, peer, ownPorts);
                        report(r);
                        if (!held(r)) {
                            failed = middle;
                        } else {
                            best = r;
                        }
                    }
                    if (best != null) {
                        report(new Result(
                                label,
                                "saturation",
                                best.offered(),
                                best.sentRate(),
                                best.deliveredRate(),
                                best.loss(),
                                best.rttP50Us(),
                                best.rttP99Us(),
                                best.rttP999Us(),
                                best.relayCpuSeconds(),
                                best.relayedPackets(),
                                best.cpuSecondsPerMillionPackets(),
                                best.generatorSocketDrops(),
                                best.generatorLimited(),
                                best.packetsPerWakeup(),
                                best.generatorCpu(),
                                best.userSecondsPerMillionPackets()));
                    }
                }
            } finally {
                receiving = false;
                selector.wakeup();
                receiver.join(5_000);
                for (TurnClient client : clients) {
                    client.tearDown();
                    client.close();
                }
                for (TurnClient client : streamClients) {
                    client.close(); // the relay ends the allocation with the connection
                }
                if (batchedClients != null) {
                    batchedClients.close(); // the allocations end with the relay, which each round restarts
                }
                if (batched) {
                    if (batchedClients == null) {
                        echoStopped.await(5, java.util.concurrent.TimeUnit.SECONDS); // the stream run's echo thread
                    }
                    batchedPeer.close();
                }
            }
        }
        return 0;
    }

    /**
     * Whether the relay kept up at that rate: under 1% lost, and (what a stream shows instead of loss) at least 99%
     * of what was sent delivered within the window and no standing queue: over TCP nothing is lost, packets wait
     * in buffers instead.
     */
    private boolean held(Result r) {
        return r.loss() < 0.01
                && r.deliveredRate() >= 0.99 * r.sentRate()
                && r.sentRate() >= 0.97 * r.offered()
                && (streamClients.isEmpty() || r.rttP50Us() < STREAM_BEHIND_P50_US)
                && !r.generatorLimited();
    }

    /**
     * Over a stream a relay that falls behind loses nothing: what it has not read waits in the socket buffers,
     * megabytes of them, so a 5 s step can end with everything delivered late. A relay that keeps up adds well
     * under a millisecond on loopback; a median round trip of 10 ms or more is a standing queue: it is behind.
     */
    private static final double STREAM_BEHIND_P50_US = 10_000;

    private void report(Result result) throws IOException {
        PrintStream o = System.out;
        o.printf(
                Locale.ROOT,
                "%s %-10s offered %6d/s sent %6.0f/s delivered %6.0f/s loss %.3f%% rtt p50 %.0f us p99 %.0f us "
                        + "p99.9 %.0f us relay cpu %.3f s/Mpkt%s%s%n",
                result.label(),
                result.phase(),
                result.offered(),
                result.sentRate(),
                result.deliveredRate(),
                result.loss() * 100,
                result.rttP50Us(),
                result.rttP99Us(),
                result.rttP999Us(),
                result.cpuSecondsPerMillionPackets(),
                result.packetsPerWakeup() < 0
                        ? ""
                        : String.format(Locale.ROOT, " %.1f datagrams/wakeup", result.packetsPerWakeup()),
                result.generatorLimited()
                        ? "  (GENERATOR-LIMITED: the load generator could not offer or absorb this rate)"
                        : "");
        o.println(result.json());
        if (out != null) {
            Files.writeString(out, result.json() + "\n", StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        }
    }

    private Result phase(String name, int rate, int warmup, int measure, EchoPeer peer, Set<Integer> ownPorts)
            throws IOException {
        // over a stream each message is padded to a multiple of 4 (RFC 8656 §12.5), so that several share a write
        int padded = (4 + payload + 3) & ~3;
        ByteBuffer packet = streamClients.isEmpty()
                ? ByteBuffer.allocateDirect(4 + payload)
                : ByteBuffer.allocate(messagesPerWrite * padded);
        boolean udpBatched = batchedClients != null;
        // a scrape before the warm-up, unmeasured: the relay's /metrics code is then compiled and the client
        // started before the window opens, not inside it, where both once showed in the RTT tail
        loopCounters();
        long start = System.nanoTime();
        long measureStart = start + warmup * 1_000_000_000L;
        long measureEnd = measureStart + measure * 1_000_000_000L;
        long sent = 0;
        long receivedAtStart = received.get();
        int serverIp = udpBatched ? ipv4(serverAddress.getAddress()) : 0;
        boolean inWindow = false;
        long sentAtWindow = 0;
        long receivedAtWindow = 0;
        long echoedAtWindow = 0;
        long cpuAtWindow = 0;
        long ownCpuAtWindow = 0;
        long userAtWindow = 0;
        long dropsAtWindow = 0;
        long[] loopAtWindow = null;
        long windowStartNs = 0;
        int next = 0;
        while (true) {
            long now = System.nanoTime();
            if (!inWindow && now >= measureStart) {
                inWindow = true;
                windowStartNs = now;
                sentAtWindow = sent;
                receivedAtWindow = received.get();
                echoedAtWindow = echoed(peer);
                cpuAtWindow = pid == null ? 0 : ProcessCpu.cpuNs(pid);
                userAtWindow = pid == null ? 0 : ProcessCpu.userAndSystemNs(pid)[0];
                ownCpuAtWindow = ProcessCpu.cpuNs(ProcessHandle.current().pid());
                dropsAtWindow = SocketDrops.onPorts(ownPorts);
                loopAtWindow = loopCounters();
                rtt.getIntervalHistogram(); // discard warm-up samples
            }
            if (now >= measureEnd) {
                break;
            }
            long due = (long) ((now - start) / 1e9 * rate);
            if (burst > 0) {
                due = (due / burst) * burst; // whole bursts only
            }
            if (!streamClients.isEmpty()) {
                due = (due / messagesPerWrite) * messagesPerWrite; // whole writes only
            }
            while (sent < due && !streamClients.isEmpty()) {
                TurnClient client = streamClients.get(next);
                next = next + 1 == streamClients.size() ? 0 : next + 1;
                packet.clear();
                long at = System.nanoTime();
                for (int m = 0; m < messagesPerWrite; m++) {
                    packet.position(m * padded);
                    packet.putShort((short) client.channelNumber())
                            .putShort((short) payload)
                            .putLong(at);
                }
                packet.position(0).limit(messagesPerWrite == 1 ? 4 + payload : messagesPerWrite * padded);
                // blocks when the relay does not read: the shortfall shows in sentRate, and the step fails
                client.send(packet);
                sent += messagesPerWrite;
            }
            if (udpBatched) {
                long before = sent;
                sent += sendBatched(due - sent, next, serverIp, serverAddress.getPort());
                next = (int) ((next + sent - before) % allocations);
                pollBatched();
            }
            while (sent < due && !batched && streamClients.isEmpty()) {
                TurnClient client = clients.get(next);
                next = next + 1 == clients.size() ? 0 : next + 1;
                packet.clear();
                packet.putShort((short) client.channelNumber())
                        .putShort((short) payload)
                        .putLong(System.nanoTime());
                packet.position(0).limit(4 + payload);
                if (client.channel().send(packet, client.server()) > 0) {
                    sent++;
                } else {
                    break; // our own socket is full: we are the bottleneck; the shortfall shows in sentRate
                }
            }
            LockSupport.parkNanos(50_000);
        }
        long windowNs = System.nanoTime() - windowStartNs;
        long sentInWindow = sent - sentAtWindow;
        long receivedInWindow = received.get() - receivedAtWindow;
        long echoedInWindow = echoed(peer) - echoedAtWindow;
        long cpuNs = pid == null ? 0 : ProcessCpu.cpuNs(pid) - cpuAtWindow;
        long userNs = pid == null ? 0 : ProcessCpu.userAndSystemNs(pid)[0] - userAtWindow;
        // the generator's own CPU, as a share of the CPUs it may run on (taskset narrows them): near 1, it is
        // the bottleneck, whatever the relay could do
        double generatorCpu = (double) (ProcessCpu.cpuNs(ProcessHandle.current().pid()) - ownCpuAtWindow)
                / (System.nanoTime() - windowStartNs)
                / Runtime.getRuntime().availableProcessors();
        long[] loopAtEnd = loopCounters();
        // the relay publishes its counters once a second: over a 10 s window this is within about a tenth
        double packetsPerWakeup = loopAtWindow == null || loopAtEnd == null || loopAtEnd[0] == loopAtWindow[0]
                ? -1
                : (double) (loopAtEnd[1] - loopAtWindow[1]) / (loopAtEnd[0] - loopAtWindow[0]);
        Histogram histogram = rtt.getIntervalHistogram();
        // let the last echoes arrive
        for (long until = System.nanoTime() + 500_000_000L; System.nanoTime() - until < 0; ) {
            LockSupport.parkNanos(udpBatched ? 50_000 : 500_000_000L);
            if (udpBatched) {
                pollBatched();
            }
        }
        long receivedInPhase = received.get() - receivedAtStart;
        long drops = SocketDrops.onPorts(ownPorts) - dropsAtWindow;
        double seconds = windowNs / 1e9;
        double sentRate = sentInWindow / seconds;
        // client->peer as the peer saw it, peer->client as we did (an external peer: twice what came back)
        long relayed = externalPeer == null ? echoedInWindow + receivedInWindow : 2 * receivedInWindow;
        double loss = sent == 0 ? 0 : Math.max(0, 1 - (double) receivedInPhase / sent);
        // over UDP a shortfall in sending is our own socket's; over a stream it is the relay not reading (a send
        // blocks), which fails the step through held() without blaming the generator
        boolean generatorLimited =
                (streamClients.isEmpty() && sentRate < 0.97 * rate) || drops > 0 || generatorCpu >= 0.9;
        return new Result(
                label,
                name,
                rate,
                sentRate,
                receivedInWindow / seconds,
                loss,
                histogram.getValueAtPercentile(50) / 1000.0,
                histogram.getValueAtPercentile(99) / 1000.0,
                histogram.getValueAtPercentile(99.9) / 1000.0,
                cpuNs / 1e9,
                relayed,
                relayed == 0 ? 0 : cpuNs / 1e9 / (relayed / 1e6),
                drops,
                generatorLimited,
                packetsPerWakeup,
                generatorCpu,
                relayed == 0 ? 0 : userNs / 1e9 / (relayed / 1e6));
    }

    private long echoed(EchoPeer peer) {
        return batched ? batchedEchoed.get() : peer.echoed.get();
    }

    private static int ipv4(InetAddress address) {
        byte[] b = address.getAddress();
        return ((b[0] & 0xFF) << 24) | ((b[1] & 0xFF) << 16) | ((b[2] & 0xFF) << 8) | (b[3] & 0xFF);
    }

    /**
     * With --batched: up to {@code count} ChannelData datagrams, client after client from {@code first}, a
     * sendmmsg per {@link BatchedUdp#SLOTS}; answers how many the kernel took (fewer: our own buffer is full, and
     * the shortfall shows in sentRate).
     */
    private long sendBatched(long count, int first, int serverIp, int serverPort) throws IOException {
        long sent = 0;
        int client = first;
        while (sent < count) {
            int batch = (int) Math.min(BatchedUdp.SLOTS, count - sent);
            for (int i = 0; i < batch; i++) {
                long at = (long) BatchedUdp.SLOT_BYTES * i;
                batchedClients.data.set(NETWORK_SHORT, at, (short) clientChannels[client]);
                batchedClients.data.set(NETWORK_SHORT, at + 2, (short) payload);
                batchedClients.data.set(NETWORK_LONG, at + 4, System.nanoTime());
                batchedClients.prepare(i, 4 + payload, serverIp, serverPort, clientIps[client]);
                client = client + 1 == allocations ? 0 : client + 1;
            }
            int n = batchedClients.send(0, batch);
            sent += n;
            if (n < batch) {
                break;
            }
        }
        return sent;
    }

    /** With --batched: the echo peer sends back what reached it, and the clients take in what came back. */
    private void pollBatched() throws IOException {
        echoWaiting();
        for (int round = 0; round < 16; round++) {
            int n = batchedClients.receive();
            long now = System.nanoTime();
            for (int i = 0; i < n; i++) {
                if (batchedClients.length(i) >= 12) {
                    long sentAt = batchedClients.data.get(NETWORK_LONG, (long) BatchedUdp.SLOT_BYTES * i + 4);
                    rtt.recordValue(Math.max(0, now - sentAt));
                    received.lazySet(received.get() + 1);
                }
            }
            if (n < BatchedUdp.SLOTS) {
                break;
            }
        }
    }

    private final java.util.concurrent.CountDownLatch echoStopped = new java.util.concurrent.CountDownLatch(1);

    /**
     * With --batched over TCP or TLS: the echo peer on a thread of its own, so that a client's write blocked by a
     * relay that does not read never holds up the peer (whose drops would then be counted against the generator).
     */
    private void echoBatched() {
        try {
            while (receiving) {
                if (batchedPeer.await(100)) {
                    echoWaiting();
                }
            }
        } catch (IOException e) {
            System.err.println("echo peer stopped: " + e);
        } finally {
            echoStopped.countDown();
        }
    }

    /** The batched echo peer sends back what has reached it. */
    private void echoWaiting() throws IOException {
        for (int round = 0; round < 16; round++) {
            int n = batchedPeer.receive();
            for (int i = 0; i < n; i++) {
                batchedPeer.echoPrepare(i);
            }
            for (int from = 0, tries = 0; from < n && tries < 16; tries++) {
                from += batchedPeer.send(from, n);
            }
            batchedEchoed.lazySet(batchedEchoed.get() + n);
            if (n < BatchedUdp.SLOTS) {
                break;
            }
        }
    }

    /** One client for every scrape: a new one each time starts threads in the generator inside the window. */
    private java.net.http.HttpClient metricsClient;

    /** Turnpike's loop iterations and datagrams received, from --metrics; null without it or on failure. */
    private long[] loopCounters() {
        if (metricsUrl == null) {
            return null;
        }
        try {
            if (metricsClient == null) {
                metricsClient = java.net.http.HttpClient.newHttpClient();
            }
            java.net.http.HttpResponse<String> response = metricsClient.send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(metricsUrl))
                            .build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            long iterations = -1;
            long received = -1;
            for (String line : response.body().split("\n")) {
                if (line.startsWith("turnpike_loop_iterations_total ")) {
                    iterations = (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1));
                } else if (line.startsWith("turnpike_datagrams_received_total ")) {
                    received = (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1));
                }
            }
            return iterations < 0 || received < 0 ? null : new long[] {iterations, received};
        } catch (IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** A stream client's echoes, one thread each (blocking reads). */
    private void readStream(TurnClient client) {
        try {
            while (receiving) {
                ByteBuffer message = client.receive(1_000); // null after a quiet second: look at receiving again
                if (message != null && message.remaining() >= 12 && (message.get(0) & 0xC0) == 0x40) {
                    long sentAt = message.getLong(4);
                    rtt.recordValue(Math.max(0, System.nanoTime() - sentAt));
                    received.incrementAndGet();
                }
            }
        } catch (IOException e) {
            // closed at the end of the run
        }
    }

    private void receive(Selector selector) {
        try {
            while (receiving) {
                selector.select(
                        key -> {
                            TurnClient client = (TurnClient) key.attachment();
                            ByteBuffer in = client.inBuffer();
                            try {
                                for (int i = 0; i < 64; i++) {
                                    in.clear();
                                    if (client.channel().receive(in) == null) {
                                        return;
                                    }
                                    if (in.position() >= 12) {
                                        long sentAt = in.getLong(4);
                                        rtt.recordValue(Math.max(0, System.nanoTime() - sentAt));
                                        received.lazySet(received.get() + 1);
                                    }
                                }
                            } catch (IOException e) {
                                // a closed socket at shutdown
                            }
                        },
                        100);
            }
        } catch (IOException e) {
            System.err.println("receiver stopped: " + e);
        }
    }
}
