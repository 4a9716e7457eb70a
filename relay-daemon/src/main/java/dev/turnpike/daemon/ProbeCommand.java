package dev.turnpike.daemon;

import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code turnpike probe turn:HOST:PORT}: checks a running relay (this one or any other) end to end, as a client
 * behind it would use it, and says in plain words what is wrong: Binding, Allocate with the 401 exchange,
 * CreatePermission for a local echo peer, a datagram out through the relayed address and back. Exit 0 only
 * when every step passed, 1 when one failed, 2 for bad arguments.
 */
@Command(
        name = "probe",
        mixinStandardHelpOptions = true,
        description = "Check a TURN relay end to end and say what is wrong.")
final class ProbeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "URL", description = "turn:HOST:PORT, e.g. turn:127.0.0.1:3478 or turn:[::1]:3478")
    String url;

    @Option(
            names = "--user",
            paramLabel = "NAME",
            description = "The user to allocate as. Without it, only the Binding is checked: that the relay "
                    + "answers (a container's HEALTHCHECK).")
    String user;

    @Option(names = "--password", paramLabel = "PASSWORD", description = "Its password (static credentials).")
    String password;

    @Option(
            names = "--secret-file",
            paramLabel = "PATH",
            description = "Or: a file holding the relay's shared secret, to make time-limited credentials.")
    String secretFile;

    @Option(
            names = "--realm",
            paramLabel = "REALM",
            description = "The realm, if the relay's first challenge should not be trusted to name it.")
    String realm;

    @Option(
            names = "--timeout-ms",
            paramLabel = "MS",
            defaultValue = "3000",
            description = "How long to wait for each answer. Default: ${DEFAULT-VALUE}.")
    long timeoutMs;

    private PrintWriter out;

    @Override
    public Integer call() throws IOException {
        out = spec.commandLine().getOut();
        InetSocketAddress server = server(url);
        InetSocketAddress local = new InetSocketAddress(
                server.getAddress() instanceof java.net.Inet6Address
                        ? java.net.InetAddress.getByName("::")
                        : java.net.InetAddress.getByName("0.0.0.0"),
                0);
        if (user == null) {
            return bindingOnly(server, local) ? 0 : 1;
        }
        if ((password == null) == (secretFile == null)) {
            throw new StartupException("--password or --secret-file (expected: exactly one of them)", 2);
        }
        try (TurnClient client = password != null
                        ? new TurnClient(server, local, user, password, realm)
                        : TurnClient.withSecret(
                                server,
                                local,
                                user,
                                SecretFiles.read("--secret-file", secretFile, System.getenv())
                                        .get(0),
                                realm);
                // the echo peer: a socket of this machine; it only ever sends a Binding, so it needs no credentials
                TurnClient peer = new TurnClient(server, local, "turnpike-probe-peer", "", realm)) {
            return probe(client, server, peer) ? 0 : 1;
        }
    }

    /** Without --user: whether the relay answers a Binding, which its event loop does. */
    private boolean bindingOnly(InetSocketAddress server, InetSocketAddress local) throws IOException {
        try (TurnClient client = new TurnClient(server, local, "turnpike-probe", "", realm)) {
            InetSocketAddress reflexive = client.binding(timeoutMs);
            ok("binding", "the relay sees this client as " + Addresses.format(reflexive));
            out.println("probe: the relay answers (no --user: allocation not checked)");
            return true;
        } catch (SocketTimeoutException e) {
            return fail(
                    "binding",
                    "no answer from " + Addresses.format(server) + " within " + timeoutMs
                            + " ms: a firewall in the way, the wrong port, or no relay there");
        }
    }

    private boolean probe(TurnClient client, InetSocketAddress server, TurnClient peer) throws IOException {
        InetSocketAddress reflexive;
        try {
            reflexive = client.binding(timeoutMs);
        } catch (SocketTimeoutException e) {
            return fail(
                    "binding",
                    "no answer from " + Addresses.format(server) + " within " + timeoutMs
                            + " ms: a firewall in the way, the wrong port, or no relay there");
        }
        ok("binding", "the relay sees this client as " + Addresses.format(reflexive));

        StunMessage allocated =
                client.ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
        int code = allocated.errorCode();
        if (code >= 0) {
            return fail(
                    "allocate",
                    switch (code) {
                        case 401 -> "credentials refused (401): wrong user, password or secret, or another realm";
                        case 438 -> "nonce refused again and again (438): the relay's clock or nonce handling";
                        case 486 -> "a quota is full (486): too many allocations for this user or address";
                        case 508 -> "no relay port free (508)";
                        case 440 -> "no relayed address of this family (440)";
                        default -> "refused with " + code;
                    });
        }
        InetSocketAddress relayed = allocated.xorAddress(allocated.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
        ok("allocate", "relayed address " + Addresses.format(relayed));

        // The echo peer's address as the relay will see it: a Binding of its own.
        InetSocketAddress peerAddress;
        try {
            peerAddress = peer.binding(timeoutMs);
        } catch (SocketTimeoutException e) {
            return fail("permission", "the echo peer got no Binding answer from the relay");
        }
        StunMessage permitted = client.ask(
                StunMethod.CREATE_PERMISSION, w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peerAddress));
        if (permitted.errorCode() >= 0) {
            return fail(
                    "permission",
                    permitted.errorCode() == 403
                            ? "the relay refuses " + peerAddress.getAddress().getHostAddress()
                                    + " as a peer (403): its peer policy (Turnpike: --allow-peer; coturn: --allowed-peer-ip)"
                            : "CreatePermission refused with " + permitted.errorCode());
        }
        ok("permission", "for the echo peer at " + Addresses.format(peerAddress));

        byte[] token = ("turnpike-probe " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
        client.sendIndication(peerAddress, token);
        ByteBuffer arrived = peer.receive(timeoutMs);
        if (arrived == null) {
            return fail(
                    "relay out",
                    "nothing reached the echo peer within " + timeoutMs + " ms: the relay could not, or by its peer "
                            + "policy would not, send there from " + Addresses.format(relayed));
        }
        ok("relay out", "the echo peer got the datagram");
        peer.channel().send(arrived, relayed); // back where it came from
        if (!cameBack(client, token)) {
            return fail(
                    "relay back",
                    "nothing came back through " + Addresses.format(relayed) + " within " + timeoutMs
                            + " ms: the relayed address is not reachable from here (behind a 1:1 NAT the relay needs "
                            + "--public-address, coturn --external-ip)");
        }
        ok("relay back", "the echo came back through the relayed address");
        client.tearDown();
        out.println("probe: all passed");
        out.flush();
        return true;
    }

    /** Whether a Data indication or ChannelData carrying {@code token} arrives within the timeout. */
    private boolean cameBack(TurnClient client, byte[] token) throws IOException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        while (System.nanoTime() < deadline) {
            ByteBuffer datagram = client.receive(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            if (datagram == null) {
                return false;
            }
            byte[] bytes = new byte[datagram.remaining()];
            datagram.get(bytes);
            if (indexOf(bytes, token) >= 0) {
                return true;
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /** turn:HOST:PORT (a ?transport=udp suffix is allowed; nothing else is probed yet). */
    static InetSocketAddress server(String url) {
        String text = url.strip();
        if (!text.startsWith("turn:")) {
            throw new StartupException("'" + url + "' (expected: turn:HOST:PORT, e.g. turn:127.0.0.1:3478)", 2);
        }
        text = text.substring("turn:".length());
        int query = text.indexOf('?');
        if (query >= 0) {
            if (!text.substring(query).equals("?transport=udp")) {
                throw new StartupException("'" + url + "' (expected: UDP, ?transport=udp or nothing)", 2);
            }
            text = text.substring(0, query);
        }
        try {
            return Addresses.parseHostPort(text);
        } catch (IllegalArgumentException e) {
            throw new StartupException("'" + url + "' " + e.getMessage(), 2);
        }
    }

    private void ok(String step, String what) {
        out.println("ok    " + step + ": " + what);
        out.flush();
    }

    private boolean fail(String step, String why) {
        out.println("FAIL  " + step + ": " + why);
        out.flush();
        return false;
    }
}
