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
 * coturn's turnutils_uclient through the packaged Turnpike to a turnutils_peer echo peer: channels and Send
 * indications, static users and the shared secret, IPv4 and IPv6, the client over UDP, TCP, TLS and DTLS (the relayed
 * side UDP throughout). Every message sent must come back, and Turnpike's own counters must show what was
 * relayed and no drop. All of it with one worker and with two (--workers 2), where sixteen clients must land on
 * both workers.
 */
class TurnClientInteropIT {
    private static final int CLIENTS = 2;
    private static final int SPREAD_CLIENTS = 16;

    private static final Pattern BY_WORKER = Pattern.compile("allocationsByWorker=\\[(\\d+), (\\d+)\\]");
    private static final int MESSAGES = 100;

    @TempDir
    Path dir;

    @ParameterizedTest(name = "{0} {1} {2} {3}, {4} worker(s)")
    @CsvSource({
        "127.0.0.1, channels, user, udp, 1",
        "127.0.0.1, send-indications, user, udp, 1",
        "127.0.0.1, channels, secret, udp, 1",
        "::1, channels, user, udp, 1",
        "::1, send-indications, secret, udp, 1",
        "127.0.0.1, channels, user, tcp, 1",
        "127.0.0.1, send-indications, secret, tcp, 1",
        "127.0.0.1, channels, secret, tls, 1",
        "::1, send-indications, user, tls, 1",
        "127.0.0.1, channels, user, udp, 2",
        "127.0.0.1, send-indications, user, udp, 2",
        "127.0.0.1, channels, secret, udp, 2",
        "::1, channels, user, udp, 2",
        "::1, send-indications, secret, udp, 2",
        "127.0.0.1, channels, user, tcp, 2",
        "127.0.0.1, send-indications, secret, tcp, 2",
        "127.0.0.1, channels, secret, tls, 2",
        "::1, send-indications, user, tls, 2",
        "127.0.0.1, channels, user, dtls, 1",
        "::1, send-indications, secret, dtls, 2"
    })
    void uclientRelaysThroughTurnpikeToAnEchoPeerWithoutLoss(
            String ip, String mode, String credentials, String transport, int workers) throws Exception {
        // with two workers, enough clients that the kernel puts some on each (all on one: 2 in 2^16)
        int clients = workers == 1 ? CLIENTS : SPREAD_CLIENTS;
        Path uclient = Interop.tool("turnutils_uclient", "coturn");
        Path peerTool = Interop.tool("turnutils_peer", "coturn");
        int port = Interop.testPort(ip);
        // DTLS is UDP too: its listener takes a port of its own, which the client is given; drawn before the echo
        // peer's, since turnutils_peer also listens on the port after its own, and echoes a ClientHello sent there
        int clientPort = transport.equals("dtls") ? Interop.testPort(ip) : port;
        int peerPort = Interop.testPort(ip);
        String listen = ip.contains(":") ? "[" + ip + "]:" + port : ip + ":" + port;
        Interop.PortRange relayPorts = Interop.relayPorts(1000);
        List<String> listenFlags = new ArrayList<>(List.of("--listen", listen));

        switch (transport) {
            case "tcp" -> listenFlags.addAll(List.of("--listen-tcp", listen));
            case "tls" -> {
                TestCertificate certificate = TestCertificate.make(dir);
                listenFlags.addAll(List.of(
                        "--listen-tls",
                        listen,
                        "--tls-cert",
                        certificate.cert().toString(),
                        "--tls-key",
                        certificate.key().toString()));
            }
            case "dtls" -> {
                TestCertificate certificate = TestCertificate.make(dir);
                listenFlags.addAll(List.of(
                        "--listen-dtls",
                        ip.contains(":") ? "[" + ip + "]:" + clientPort : ip + ":" + clientPort,
                        "--tls-cert",
                        certificate.cert().toString(),
                        "--tls-key",
                        certificate.key().toString()));
            }
            default -> {}
        }
        List<String> args = new ArrayList<>(listenFlags);
        args.addAll(List.of(
                "--relay-ports",
                relayPorts.flag(),
                "--realm",
                "example.org",
                "--user",
                "alice:wonderland",
                "--auth-secret",
                "s3cret",
                "--allow-peer",
                "127.0.0.0/8",
                "--allow-peer",
                "::1/128",
                "--rfc5766-channel-numbers",
                "--workers",
                String.valueOf(workers),
                "--log-level",
                "debug"));
        try (DaemonProcess daemon = DaemonProcess.start(args.toArray(String[]::new));
                Background peer = Background.start(peerTool.toString(), "-p", String.valueOf(peerPort), "-L", ip)) {
            List<String> command = new ArrayList<>(List.of(uclient.toString()));
            if (credentials.equals("user")) {
                command.addAll(List.of("-u", "alice", "-w", "wonderland"));
            } else {
                command.addAll(List.of("-u", "interop", "-W", "s3cret"));
            }
            if (mode.equals("send-indications")) {
                command.add("-s");
            }
            switch (transport) {
                case "tcp" -> command.add("-t");
                // a message each millisecond: the relay then has several for a connection in one pass, and
                // uclient takes each TLS record for one message (it lost three in four at this pace when the relay
                // put a pass's messages in one record)
                case "tls" -> command.addAll(List.of("-t", "-S", "-z", "1"));
                case "dtls" -> command.add("-S"); // over UDP: DTLS
                default -> {}
            }
            command.addAll(List.of(
                    "-e",
                    ip,
                    "-r",
                    String.valueOf(peerPort),
                    "-n",
                    String.valueOf(MESSAGES),
                    "-m",
                    String.valueOf(clients),
                    "-l",
                    "170",
                    "-p",
                    String.valueOf(clientPort),
                    ip));
            Interop.Result result = Interop.run(120, command.toArray(String[]::new));
            assertThat(peer.alive())
                    .as("the echo peer ran throughout: " + peer.output())
                    .isTrue();
            // On failure, show both sides: the client's transcript and the relay's log (debug: bind failures).
            String transcript = "turnutils_uclient:\n" + result.output() + "\nturnpike:\n" + daemon.output();

            Matcher totals = Interop.UCLIENT_TOTALS.matcher(result.output());
            String last = null;
            String lastReceived = null;
            while (totals.find()) {
                last = totals.group(1);
                lastReceived = totals.group(2);
            }
            assertThat(last).as(transcript).isEqualTo(String.valueOf(clients * MESSAGES));
            assertThat(lastReceived).as(transcript).isEqualTo(String.valueOf(clients * MESSAGES));
            Matcher lost = Interop.UCLIENT_LOST.matcher(result.output());
            assertThat(lost.find()).as(transcript).isTrue();
            assertThat(lost.group(1)).isEqualTo("0");

            assertThat(daemon.terminate()).isZero();
            String log = daemon.output();
            assertThat(log)
                    .contains(
                            "allocationsRefusedNoPort=0",
                            "packetsClientToPeer=" + clients * MESSAGES,
                            "packetsPeerToClient=" + clients * MESSAGES);
            for (String reason : new String[] {"MALFORMED", "NO_PERMISSION", "PEER_DENIED", "SEND_ERROR"}) {
                assertThat(log).contains("dropped" + reason + "=0");
            }
            if (workers == 2) {
                Matcher byWorker = BY_WORKER.matcher(log);
                assertThat(byWorker.find()).as(log).isTrue();
                assertThat(Integer.parseInt(byWorker.group(1)))
                        .as("allocations on the first worker")
                        .isPositive();
                assertThat(Integer.parseInt(byWorker.group(2)))
                        .as("allocations on the second worker")
                        .isPositive();
            }
        }
    }
}
