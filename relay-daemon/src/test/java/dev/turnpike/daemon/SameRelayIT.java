package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Client to client through one relay (issue 22), with coturn's {@code turnutils_uclient -y}: each client relays to
 * the other's relayed address, which is the relay's own. With the default peer policy (no --allow-peer), on
 * loopback; and in a network namespace with no route out, where the relay advertises --public-address 198.18.0.1
 * (the benchmarking range, which nothing there holds): as behind a cloud's 1:1 NAT, the clients know only that
 * address, and the relay must deliver inside, since anything sent toward it fails at once (ENETUNREACH, counted
 * as a send error). With one worker and with two.
 */
class SameRelayIT {
    private static final int MESSAGES = 50;
    private static final Pattern INSIDE = Pattern.compile("sameRelayInside=(\\d+) sameRelayThroughHost=(\\d+)");

    @ParameterizedTest(name = "{0}, {1} worker(s)")
    @CsvSource({"channels, 1", "send-indications, 1", "channels, 2", "send-indications, 2"})
    void clientsOfOneRelayReachEachOtherOnLoopbackWithTheDefaultPeerPolicy(String mode, int workers) throws Exception {
        int port = Interop.testPort("127.0.0.1");
        try (DaemonProcess daemon = DaemonProcess.start(relayFlags("127.0.0.1", port, workers))) {
            run(List.of(), mode, clients(workers), port, "127.0.0.1", daemon);
        }
    }

    @ParameterizedTest(name = "{0}, {1} worker(s)")
    @CsvSource({"channels, 1", "send-indications, 1", "channels, 2"})
    void behindA1To1NatClientsOfOneRelayReachEachOtherInsideAndNothingGoesToThePublicAddress(String mode, int workers)
            throws Exception {
        String address = "10.231.81.1"; // inside our own namespace: nothing leaves it
        int port = Interop.testPort("127.0.0.1");
        try (NetworkNamespace namespace = NetworkNamespace.isolated(address)) {
            List<String> flags = new ArrayList<>(List.of(relayFlags(address, port, workers)));
            flags.addAll(List.of("--relay-address", address, "--public-address", "198.18.0.1"));
            try (DaemonProcess daemon = DaemonProcess.startIn(namespace, flags.toArray(String[]::new))) {
                run(namespace.prefix(), mode, clients(workers), port, address, daemon);
            }
        }
    }

    /**
     * Four clients (two pairs: uclient -y runs no fewer) for one worker; with two, enough that pairs land on both
     * and across them.
     */
    private static int clients(int workers) {
        return workers == 1 ? 4 : 16;
    }

    private static String[] relayFlags(String address, int port, int workers) throws java.io.IOException {
        return new String[] {
            "--listen",
            address + ":" + port,
            "--relay-ports",
            Interop.relayPorts(1000).flag(),
            "--realm",
            "example.org",
            "--user",
            "alice:wonderland",
            "--rfc5766-channel-numbers",
            "--workers",
            String.valueOf(workers)
        };
    }

    private static void run(
            List<String> prefix, String mode, int clients, int port, String address, DaemonProcess daemon)
            throws Exception {
        Path uclient = Interop.tool("turnutils_uclient", "coturn");
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(uclient.toString(), "-y", "-u", "alice", "-w", "wonderland"));
        if (mode.equals("send-indications")) {
            command.add("-s");
        }
        command.addAll(List.of(
                "-n",
                String.valueOf(MESSAGES),
                "-m",
                String.valueOf(clients),
                "-l",
                "170",
                "-p",
                String.valueOf(port),
                address));
        Interop.Result result = Interop.run(120, command.toArray(String[]::new));
        assertThat(daemon.terminate()).isZero();
        String transcript = "turnutils_uclient:\n" + result.output() + "\nturnpike:\n" + daemon.output();
        Matcher totals = Interop.UCLIENT_TOTALS.matcher(result.output());
        String sent = null;
        String received = null;
        while (totals.find()) {
            sent = totals.group(1);
            received = totals.group(2);
        }
        int expected = clients * MESSAGES;
        assertThat(sent).as(transcript).isEqualTo(String.valueOf(expected));
        assertThat(received).as(transcript).isEqualTo(String.valueOf(expected));
        assertThat(result.output()).as(transcript).contains("Total lost packets 0 ");
        String log = daemon.output();
        for (String reason : new String[] {"NO_PERMISSION", "PEER_DENIED", "SEND_ERROR"}) {
            assertThat(log).as(transcript).contains("dropped" + reason + "=0");
        }
        Matcher inside = INSIDE.matcher(log);
        assertThat(inside.find()).as(transcript).isTrue();
        assertThat(Long.parseLong(inside.group(1)) + Long.parseLong(inside.group(2)))
                .as("every message went to another allocation of this relay: inside, or through the host\n" + log)
                .isEqualTo(expected);
    }
}
