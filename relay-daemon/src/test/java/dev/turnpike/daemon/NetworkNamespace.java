package dev.turnpike.daemon;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * A test host in a network namespace of its own, joined to this one by a veth pair whose egress toward it is
 * rate-limited by a tbf qdisc: a link slower than the relay, so that sends really block. Needs root and
 * iproute2; without them the test is skipped, or fails when {@code interop.required} is set (CI).
 */
final class NetworkNamespace implements AutoCloseable {
    final String name;
    final String hostDevice;
    final String hostAddress;
    final String peerAddress;

    private NetworkNamespace(String name, String hostDevice, String hostAddress, String peerAddress) {
        this.name = name;
        this.hostDevice = hostDevice;
        this.hostAddress = hostAddress;
        this.peerAddress = peerAddress;
    }

    /** Creates the namespace with {@code hostAddress}/30 here and {@code peerAddress}/30 there, at {@code rate}. */
    static NetworkNamespace create(String rate) throws IOException, InterruptedException {
        Interop.tool("ip", "iproute2");
        Interop.tool("tc", "iproute2");
        String suffix = Long.toString(ProcessHandle.current().pid() % 100_000);
        String name = "tp-bp-" + suffix;
        String hostDevice = "tpbp" + suffix + "a";
        String peerDevice = "tpbp" + suffix + "b";
        // A /30 of our own, inside a namespace we create: no traffic leaves this machine.
        String hostAddress = "10.231.77.1";
        String peerAddress = "10.231.77.2";
        NetworkNamespace ns = new NetworkNamespace(name, hostDevice, hostAddress, peerAddress);
        ns.cleanUpLeftovers();
        List<String[]> steps = new ArrayList<>();
        steps.add(new String[] {"ip", "netns", "add", name});
        steps.add(new String[] {"ip", "link", "add", hostDevice, "type", "veth", "peer", "name", peerDevice});
        steps.add(new String[] {"ip", "link", "set", peerDevice, "netns", name});
        steps.add(new String[] {"ip", "addr", "add", hostAddress + "/30", "dev", hostDevice});
        steps.add(new String[] {"ip", "link", "set", hostDevice, "up"});
        steps.add(new String[] {"ip", "netns", "exec", name, "ip", "addr", "add", peerAddress + "/30", "dev", peerDevice
        });
        steps.add(new String[] {"ip", "netns", "exec", name, "ip", "link", "set", peerDevice, "up"});
        steps.add(new String[] {"ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"});
        // The queue holds a full second at this rate, more than a socket's send buffer: the sender blocks
        // before the qdisc would drop.
        steps.add(new String[] {
            "tc", "qdisc", "add", "dev", hostDevice, "root", "tbf", "rate", rate, "burst", "16kb", "latency", "1s"
        });
        ns.setUp(steps);
        return ns;
    }

    /**
     * A namespace with nothing but its loopback interface, holding {@code address} too: no route out, so a datagram
     * to any other address fails at once (ENETUNREACH) and nothing leaves it.
     */
    static NetworkNamespace isolated(String address) throws IOException, InterruptedException {
        Interop.tool("ip", "iproute2");
        String name = "tp-iso-" + ProcessHandle.current().pid() % 100_000;
        NetworkNamespace ns = new NetworkNamespace(name, "none", address, address);
        Interop.run(10, "ip", "netns", "del", name);
        String[][] steps = {
            {"ip", "netns", "add", name},
            {"ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"},
            {"ip", "netns", "exec", name, "ip", "addr", "add", address + "/32", "dev", "lo"}
        };
        ns.setUp(List.of(steps));
        return ns;
    }

    /**
     * Runs the set-up steps in order; at the first that fails, removes what was made and skips the test, or fails
     * it where interop.required is set (CI).
     */
    private void setUp(List<String[]> steps) throws IOException, InterruptedException {
        for (String[] step : steps) {
            Interop.Result result = Interop.run(20, step);
            if (result.exitCode() != 0) {
                close();
                String message = "cannot set up a network namespace (" + String.join(" ", step) + "): "
                        + result.output().strip();
                if (Boolean.getBoolean("interop.required")) {
                    fail(message + "; interop.required=true");
                }
                Assumptions.abort(message);
            }
        }
    }

    /** What runs a command inside the namespace: put in front of it. */
    List<String> prefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs a command inside the namespace, in the background. */
    Background exec(String... command) throws IOException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return Background.start(full.toArray(String[]::new));
    }

    /** The qdisc's statistics line: "Sent N bytes M pkt (dropped D, ...". */
    String qdiscStatistics() throws IOException, InterruptedException {
        return Interop.run(10, "tc", "-s", "qdisc", "show", "dev", hostDevice).output();
    }

    private void cleanUpLeftovers() throws IOException, InterruptedException {
        Interop.run(10, "ip", "netns", "del", name);
        if (!hostDevice.equals("none")) {
            Interop.run(10, "ip", "link", "del", hostDevice);
        }
    }

    @Override
    public void close() throws IOException {
        try {
            cleanUpLeftovers();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
