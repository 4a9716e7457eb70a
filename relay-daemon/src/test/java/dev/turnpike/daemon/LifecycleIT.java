package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged daemon through a year of operation: reloads (SIGHUP and POST /reload) with an allocation live, and
 * drains (SIGTERM) that let it finish, with /readyz and /healthz watched from outside.
 */
class LifecycleIT {
    private static final int CHANNEL = 0x4001;

    @TempDir
    Path dir;

    /** Allocates, binds a channel to {@code peer} and sees a first datagram there and back. */
    private static void relaying(TurnClient client, DatagramSocket peer) throws IOException {
        client.allocate();
        client.channelBind(CHANNEL, (InetSocketAddress) peer.getLocalSocketAddress());
        roundTrip(client, peer, 0);
    }

    /** A datagram through the client's channel to the peer, echoed by the peer, back at the client. */
    private static void roundTrip(TurnClient client, DatagramSocket peer, int i) throws IOException {
        assertThat(client.sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[] {9, 8, 7, (byte) i})))
                .isTrue();
        DatagramPacket packet = new DatagramPacket(new byte[64], 64);
        peer.receive(packet);
        peer.send(packet);
        assertThat(client.receive(5_000)).as("echo " + i).isNotNull();
    }

    private static TurnClient client(int port, String user, String password) throws IOException {
        return new TurnClient(new InetSocketAddress("127.0.0.1", port), user, password, "example.org");
    }

    private void write(Path file, String... lines) throws IOException {
        Files.write(file, String.join("\n", lines).concat("\n").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aReloadKeepsTheLiveAllocationTakesNewUsersAndRefusesABadConfigWhole() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        Path users = dir.resolve("users");
        Path config = dir.resolve("turnpike.conf");
        String[] settings = {
            "listen = 127.0.0.1:" + port,
            "relay-ports = " + Interop.relayPorts(50).flag(),
            "realm = example.org",
            "users-file = " + users,
            "allow-peer = 127.0.0.0/8",
            "metrics-listen = 127.0.0.1:0"
        };
        write(users, "alice:wonderland", "bob:builder");
        write(config, settings);
        try (DaemonProcess daemon = DaemonProcess.start("--config", config.toString());
                TurnClient alice = client(port, "alice", "wonderland");
                DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5_000);
            String base = Scrape.base(daemon);
            relaying(alice, peer);

            // bob out, carol in, a quota changed: SIGHUP
            write(users, "alice:wonderland", "carol:c4rol-pw");
            write(config, append(settings, "user-quota = 50"));
            daemon.signal("HUP");
            daemon.awaitOutput("reloaded", 10);
            assertThat(daemon.output()).contains("changed --user-quota, --users-file (its users)");

            roundTrip(alice, peer, 1);
            alice.refresh(600);
            roundTrip(alice, peer, 2);
            try (TurnClient carol = client(port, "carol", "c4rol-pw");
                    TurnClient bob = client(port, "bob", "builder")) {
                assertThat(carol.allocate()).isNotNull();
                assertThatThrownBy(bob::allocate).hasMessageContaining("not authenticated");
            }

            // a bad value, then a change that takes a restart: each refused whole, the running one stays
            write(users, "alice:wonderland", "carol:c4rol-pw", "dave:d4ve-pw");
            write(config, append(settings, "max-lifetime = 5"));
            daemon.signal("HUP");
            daemon.awaitOutput("reload refused", 10);
            assertThat(daemon.output())
                    .contains("--config " + config + ": max-lifetime = 5 (expected: 600..86400 seconds)");
            String[] otherPorts = settings.clone(); // the range changed in place: a repeated key is its own error
            otherPorts[1] = "relay-ports = 40000-40099";
            write(config, otherPorts);
            HttpResponse<String> restart = Scrape.http(base, "POST", "/reload");
            assertThat(restart.statusCode()).isEqualTo(409);
            assertThat(restart.body()).contains("--relay-ports changed, which takes a restart");
            try (TurnClient dave = client(port, "dave", "d4ve-pw")) {
                assertThatThrownBy(dave::allocate)
                        .as("the refused reloads' new user")
                        .hasMessageContaining("not authenticated");
            }
            roundTrip(alice, peer, 3);

            // fixed: POST /reload takes it
            write(config, append(settings, "user-quota = 50"));
            HttpResponse<String> fixed = Scrape.http(base, "POST", "/reload");
            assertThat(fixed.statusCode()).as(fixed.body()).isEqualTo(200);
            assertThat(fixed.body()).isEqualTo("reloaded: changed --users-file (its users)\n");
            try (TurnClient dave = client(port, "dave", "d4ve-pw")) {
                assertThat(dave.allocate()).isNotNull();
            }
            roundTrip(alice, peer, 4);
            assertThat(Scrape.http(base, "GET", "/metrics").body())
                    .contains("turnpike_reloads_total{result=\"applied\"} 2\n")
                    .contains("turnpike_reloads_total{result=\"refused\"} 2\n");
            // the usage table is sized at start: a new --usage-top takes a restart
            write(config, append(settings, "user-quota = 50", "usage-top = 5"));
            HttpResponse<String> usageTop = Scrape.http(base, "POST", "/reload");
            assertThat(usageTop.statusCode()).isEqualTo(409);
            assertThat(usageTop.body()).contains("--usage-top changed, which takes a restart");
            assertThat(daemon.terminate()).isZero();
            assertThat(daemon.output()).doesNotContain("wonderland", "c4rol-pw", "d4ve-pw", "builder");
        }
    }

    private static String[] append(String[] lines, String... more) {
        String[] all = java.util.Arrays.copyOf(lines, lines.length + more.length);
        System.arraycopy(more, 0, all, lines.length, more.length);
        return all;
    }

    @Test
    void aDrainRelaysForTheLiveAllocationRedirectsNewOnesAndExitsZeroWhenItEnds() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(
                        port,
                        "--metrics-listen",
                        "127.0.0.1:0",
                        "--drain-timeout",
                        "120",
                        "--alternate-server",
                        "127.0.0.2:3478");
                TurnClient alice = client(port, "alice", "wonderland");
                DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(5_000);
            String base = Scrape.base(daemon);
            relaying(alice, peer);
            assertThat(Scrape.http(base, "GET", "/readyz").body()).isEqualTo("ready\n");

            daemon.sigterm();
            daemon.awaitOutput("draining", 10);

            HttpResponse<String> ready = Scrape.http(base, "GET", "/readyz");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.body()).isEqualTo("draining\n");
            assertThat(Scrape.http(base, "GET", "/healthz").statusCode()).isEqualTo(200);
            try (TurnClient newcomer = client(port, "alice", "wonderland")) {
                StunMessage refused = newcomer.ask(
                        StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
                assertThat(refused.errorCode()).isEqualTo(300);
                assertThat(refused.plainAddress(refused.indexOf(StunAttribute.ALTERNATE_SERVER)))
                        .isEqualTo(new InetSocketAddress("127.0.0.2", 3478));
            }
            for (int i = 1; i <= 3; i++) {
                roundTrip(alice, peer, i);
            }
            alice.refresh(600);
            roundTrip(alice, peer, 4);
            assertThat(daemon.alive()).isTrue();
            assertThat(Scrape.await(base, "turnpike_allocations_refused_draining_total 1\n"))
                    .contains("turnpike_draining 1\n");

            alice.refresh(0); // the last allocation ends: the drain is done
            assertThat(daemon.awaitExit(10)).isZero();
            assertThat(daemon.output()).contains("drained", "stopped");
        }
    }

    @Test
    void aSecondSigtermEndsADrainAtOnceAndReadinessCanStayUpMeanwhile() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(
                        port, "--metrics-listen", "127.0.0.1:0", "--drain-timeout", "600", "--ready-while-draining");
                TurnClient alice = client(port, "alice", "wonderland")) {
            String base = Scrape.base(daemon);
            alice.allocate();
            daemon.sigterm();
            daemon.awaitOutput("draining", 10);
            assertThat(Scrape.http(base, "GET", "/readyz").statusCode()).isEqualTo(200);
            try (TurnClient newcomer = client(port, "alice", "wonderland")) {
                StunMessage refused = newcomer.ask(
                        StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
                assertThat(refused.errorCode()).as("no --alternate-server").isEqualTo(508);
            }
            assertThat(daemon.terminate()).isZero();
            assertThat(daemon.output()).contains("SIGTERM while draining: stopping now");
        }
    }

    @Test
    void underSystemdItSaysReadyThenStoppingAndPingsTheWatchdog() throws Throwable {
        int port = Interop.testPort("127.0.0.1");
        String path = dir.resolve("notify").toString();
        try (NotifySocket systemd = new NotifySocket(path);
                DaemonProcess daemon = DaemonProcess.start(
                        java.util.Map.of("NOTIFY_SOCKET", path, "WATCHDOG_USEC", "200000"),
                        "--listen",
                        "127.0.0.1:" + port,
                        "--drain-timeout",
                        "5")) {
            assertThat(systemd.await("READY=1", 10_000)).contains("MAINPID=" + daemon.pid());
            assertThat(systemd.await("WATCHDOG=1", 10_000)).isNotNull();
            daemon.sigterm();
            assertThat(systemd.await("STOPPING=1", 10_000)).isNotNull();
            assertThat(daemon.awaitExit(10)).isZero();
        }
    }

    @Test
    void aDrainEndsAtItsTimeoutWithAllocationsStillLive() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.startRelay(port, "--drain-timeout", "1");
                TurnClient alice = client(port, "alice", "wonderland")) {
            alice.allocate();
            daemon.sigterm();
            assertThat(daemon.awaitExit(10)).isZero();
            assertThat(daemon.output()).contains("drain timed out", "allocationsLeft=1");
        }
    }

    @Test
    void aRelayStartedWithSighupIgnoredSaysSoAndStillReloadsOnSighup() throws Exception {
        Path config = Files.createTempFile("turnpike", ".properties");
        try {
            Files.writeString(config, "user = alice:wonderland\n");
            try (DaemonProcess daemon = DaemonProcess.startWithSighupIgnored(
                    "--listen",
                    "127.0.0.1:0",
                    "--relay-ports",
                    Interop.relayPorts(50).flag(),
                    "--config",
                    config.toString())) {
                assertThat(daemon.output()).contains("SIGHUP was ignored when turnpike started (nohup?)");
                Files.writeString(config, "user = alice:wonderland\nuser = bob:builder\n");
                daemon.signal("HUP");
                daemon.awaitOutput("reloaded", 10);
                assertThat(daemon.output()).contains("trigger=SIGHUP");
                try (TurnClient bob = new TurnClient(daemon.listener("udp"), "bob", "builder", "turnpike")) {
                    assertThat(bob.allocate(600)).as("bob, added by the reload").isNotNull();
                    bob.tearDown();
                }
                assertThat(daemon.terminate()).isZero();
            }
        } finally {
            Files.deleteIfExists(config);
        }
    }
}
