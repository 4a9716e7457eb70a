package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's hand on the packaged relay, through {@code turnpike admin}: an allocation listed and ended, a
 * credential revoked (its relaying stops with the command's answer, its requests get 401), the revocation kept
 * across a restart in --state-dir, and lifted.
 */
class AdminIT {
    private static final int CHANNEL = 0x4001;

    @TempDir
    Path state;

    private static Interop.Result admin(String base, String... args) throws Exception {
        String[] all = new String[args.length + 3];
        all[0] = "admin";
        all[1] = "--admin-url";
        all[2] = base;
        System.arraycopy(args, 0, all, 3, args.length);
        return Interop.run(30, Interop.javaCommand(all).toArray(String[]::new));
    }

    private DaemonProcess relay(int port) throws Exception {
        return DaemonProcess.start(
                "--listen",
                "127.0.0.1:" + port,
                "--relay-ports",
                Interop.relayPorts(100).flag(),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland",
                "--user",
                "bob:builder",
                "--allow-peer",
                "127.0.0.0/8",
                "--metrics-listen",
                "127.0.0.1:0",
                "--state-dir",
                state.toString());
    }

    /** One ChannelData out through the relay and back; whether it came back. */
    private static boolean echoes(TurnClient client, DatagramSocket peer, int i) throws Exception {
        client.sendChannelData(CHANNEL, ByteBuffer.wrap(new byte[] {7, (byte) i}));
        DatagramPacket packet = new DatagramPacket(new byte[64], 64);
        try {
            peer.receive(packet);
        } catch (SocketTimeoutException e) {
            return false;
        }
        peer.send(packet);
        return client.receive(2_000) != null;
    }

    private static long idOf(String table, String user) {
        Matcher m = Pattern.compile("(?m)^(\\d+)\\s+" + user + "\\s").matcher(table);
        assertThat(m.find()).as(table).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static int allocateCode(TurnClient client) throws Exception {
        return client.ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17))
                .errorCode();
    }

    @Test
    void anAllocationIsListedAndEndedAndARevokedCredentialStopsAtOnceAndStaysRevokedAfterARestart() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        InetSocketAddress server = new InetSocketAddress("127.0.0.1", port);
        try (DatagramSocket peer = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0))) {
            peer.setSoTimeout(1_000);
            InetSocketAddress peerAddress = (InetSocketAddress) peer.getLocalSocketAddress();
            try (DaemonProcess daemon = relay(port);
                    TurnClient alice = new TurnClient(server, "alice", "wonderland", "example.org");
                    TurnClient bob = new TurnClient(server, "bob", "builder", "example.org")) {
                String base = daemon.metricsUrl().replace("/metrics", "");
                assertThat(daemon.output()).contains("revocations", state.toString());
                alice.allocate();
                alice.channelBind(CHANNEL, peerAddress);
                assertThat(echoes(alice, peer, 0)).isTrue();
                bob.allocate();

                Interop.Result listed = admin(base, "list");
                assertThat(listed.exitCode()).as(listed.output()).isZero();
                assertThat(listed.output()).contains("ID", "USER", "alice", "bob", "2 allocation(s)");
                Interop.Result json = admin(base, "list", "--json");
                assertThat(json.output()).contains("\"id\":", "\"user\":\"alice\"");

                long id = idOf(listed.output(), "alice");
                Interop.Result ended = admin(base, "end", Long.toString(id));
                assertThat(ended.exitCode()).as(ended.output()).isZero();
                assertThat(ended.output()).contains("ended allocation " + id);
                assertThat(alice.ask(StunMethod.REFRESH, w -> {}).errorCode()).isEqualTo(437);
                assertThat(admin(base, "end", Long.toString(id)).exitCode())
                        .as("ended already")
                        .isEqualTo(1);
                daemon.awaitOutput("allocation ended", 10);

                // alice again, relaying; then revoked: the next datagram after the answer is not relayed
                alice.allocate();
                alice.channelBind(CHANNEL, peerAddress);
                assertThat(echoes(alice, peer, 1)).isTrue();
                Interop.Result revoked = admin(base, "revoke", "alice");
                assertThat(revoked.exitCode()).as(revoked.output()).isZero();
                assertThat(revoked.output()).contains("revoked alice for good; 1 allocation(s) ended");
                assertThat(echoes(alice, peer, 2))
                        .as("relaying stopped with the answer")
                        .isFalse();
                assertThat(allocateCode(alice)).isEqualTo(401);
                assertThat(admin(base, "list").output()).contains("bob").doesNotContain("alice");
                assertThat(admin(base, "revocations").output()).contains("alice", "for good");
                daemon.awaitOutput("allocation revoked", 10);
                assertThat(daemon.terminate()).isZero();
            }
            assertThat(Files.readString(state.resolve("revocations"))).contains("alice\tforever");

            try (DaemonProcess daemon = relay(port);
                    TurnClient alice = new TurnClient(server, "alice", "wonderland", "example.org");
                    TurnClient bob = new TurnClient(server, "bob", "builder", "example.org")) {
                String base = daemon.metricsUrl().replace("/metrics", "");
                assertThat(allocateCode(alice))
                        .as("still revoked after a restart")
                        .isEqualTo(401);
                assertThat(allocateCode(bob)).isEqualTo(-1);
                Interop.Result lifted = admin(base, "unrevoke", "alice");
                assertThat(lifted.exitCode()).as(lifted.output()).isZero();
                assertThat(allocateCode(alice)).isEqualTo(-1);
                assertThat(admin(base, "unrevoke", "alice").exitCode())
                        .as("lifted already")
                        .isEqualTo(1);
                Interop.Result bad = admin(base, "revoke", "bob", "--until", "soon");
                assertThat(bad.exitCode()).isEqualTo(1);
                assertThat(bad.output()).contains("until=soon (expected: an ISO-8601 time");
                assertThat(daemon.terminate()).isZero();
            }
        }
    }

    @Test
    void anAdminCommandWithNothingToAnswerItSaysSoAndExits1() throws Exception {
        int port = Interop.testPort("127.0.0.1");
        Interop.Result nobody = admin("http://127.0.0.1:" + port, "list");
        assertThat(nobody.exitCode()).isEqualTo(1);
        assertThat(nobody.output()).contains("nothing answers at http://127.0.0.1:" + port);
        Interop.Result badId = admin("http://127.0.0.1:" + port, "end", "not-a-number");
        assertThat(badId.exitCode()).isEqualTo(2);
    }
}
