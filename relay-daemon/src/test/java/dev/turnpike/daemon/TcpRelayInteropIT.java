package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RFC 6062 TCP relaying with coturn's turnutils_uclient as the client and the peer: client to client through the
 * packaged Turnpike (-y), each client's allocation a TCP relayed address. Active (-T): one client Connects to the
 * other's relayed address, which the relay reaches as a peer connecting in (a ConnectionAttempt on the other side),
 * and both bind data connections. Passive (-T -P): the second client is a plain TCP peer that connects to the first's
 * relayed address. Over TCP and TLS, IPv4 and IPv6, long-term and shared-secret credentials, one worker and two
 * (where ConnectionBinds reach the worker without the peer connection and are passed to the one with it). A
 * passive run takes twice an active one (the client waits out what it counts as lost), so there is one.
 */
class TcpRelayInteropIT {
    /** uclient -m: clients, in pairs (-y): half of them allocate, Connect and bind; the other half are the peers. */
    private static final int CLIENTS = 10;

    private static final int MESSAGES = 20;
    private static final int LENGTH = 170;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1} {2} {3}, {4} worker(s)")
    @CsvSource({
        "127.0.0.1, active, user, tcp, 1",
        "127.0.0.1, passive, user, tcp, 2",
        "127.0.0.1, active, secret, tls, 2",
        "::1, active, secret, tcp, 2"
    })
    void uclientRelaysOverTcpAllocationsWithoutLoss(
            String ip, String mode, String credentials, String transport, int workers) throws Exception {
        Path uclient = Interop.tool("turnutils_uclient", "coturn");
        int port = Interop.testPort(ip);
        String listen = ip.contains(":") ? "[" + ip + "]:" + port : ip + ":" + port;
        Interop.PortRange relayPorts = Interop.relayPorts(1000);
        List<String> args = new ArrayList<>(List.of("--listen", listen));
        if (transport.equals("tls")) {
            TestCertificate certificate = TestCertificate.make(dir);
            args.addAll(List.of(
                    "--listen-tls",
                    listen,
                    "--tls-cert",
                    certificate.cert().toString(),
                    "--tls-key",
                    certificate.key().toString(),
                    // uclient tries TLS 1.0 and 1.1 first, a handshake each, before 1.2
                    "--tls-handshake-rate",
                    "0"));
        } else {
            args.addAll(List.of("--listen-tcp", listen));
        }
        args.addAll(List.of(
                "--relay-address",
                ip,
                "--relay-ports",
                relayPorts.flag(),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland",
                "--auth-secret",
                "s3cret",
                "--allow-peer",
                ip.contains(":") ? "::1/128" : "127.0.0.0/8",
                "--workers",
                String.valueOf(workers),
                "--log-level",
                "debug"));
        try (DaemonProcess daemon = DaemonProcess.start(args.toArray(String[]::new))) {
            List<String> command = new ArrayList<>(List.of(uclient.toString(), "-T", "-y"));
            if (mode.equals("passive")) {
                command.add("-P");
            }
            if (ip.contains(":")) {
                command.add("-x"); // an IPv6 relayed address
            }
            if (credentials.equals("user")) {
                command.addAll(List.of("-u", "alice", "-w", "wonderland"));
            } else {
                command.addAll(List.of("-u", "interop", "-W", "s3cret"));
            }
            command.add("-t");
            if (transport.equals("tls")) {
                command.add("-S");
            }
            command.addAll(List.of(
                    "-n",
                    String.valueOf(MESSAGES),
                    "-m",
                    String.valueOf(CLIENTS),
                    "-l",
                    String.valueOf(LENGTH),
                    "-p",
                    String.valueOf(port),
                    ip));
            Interop.Result result = Interop.run(120, command.toArray(String[]::new));
            String transcript = "turnutils_uclient:\n" + result.output() + "\nturnpike:\n" + daemon.output();
            assertThat(result.exitCode()).as(transcript).isZero();
            Matcher totals = Interop.UCLIENT_TOTALS.matcher(result.output());
            String sent = null;
            String received = null;
            while (totals.find()) {
                sent = totals.group(1);
                received = totals.group(2);
            }
            assertThat(sent).as(transcript).isEqualTo(String.valueOf(CLIENTS * MESSAGES));
            assertThat(daemon.terminate()).isZero();
            String log = daemon.output();
            // What the relay carried, each way: active, every client's messages; passive, the allocating half's
            // one way and the plain peers' the other (uclient counts the peers' sent messages, but not what they
            // receive, so it reports half lost: coturn's relay gets the same report from it in the same setup)
            int relayedEachWay = (mode.equals("active") ? CLIENTS : CLIENTS / 2) * MESSAGES * LENGTH;
            assertThat(log)
                    .as(transcript)
                    .contains(
                            "tcpRelayCONNECTS_FAILED=0",
                            "tcpRelayBINDS_REFUSED=0",
                            "tcpRelayBIND_TIMEOUTS=0",
                            "tcpRelayBytesToPeers=" + relayedEachWay,
                            "tcpRelayBytesFromPeers=" + relayedEachWay);
            if (mode.equals("active")) {
                assertThat(received).as(transcript).isEqualTo(sent);
                Matcher lost = Interop.UCLIENT_LOST.matcher(result.output());
                assertThat(lost.find()).as(transcript).isTrue();
                assertThat(lost.group(1)).isEqualTo("0");
            } else {
                assertThat(received).as(transcript).isEqualTo(String.valueOf(CLIENTS / 2 * MESSAGES));
            }
            if (workers == 2 && mode.equals("active")) {
                // dozens of data connections, hashed by the kernel: some reach the worker without their peer's
                Matcher passed = Pattern.compile("connectionsPassed=(\\d+)").matcher(log);
                assertThat(passed.find()).as(log).isTrue();
                assertThat(Integer.parseInt(passed.group(1))).isPositive();
            }
        }
    }
}
