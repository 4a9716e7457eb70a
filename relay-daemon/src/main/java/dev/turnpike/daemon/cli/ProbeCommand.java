package dev.turnpike.daemon.cli;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.client.TurnClient;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
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
 * behind it would use it, over UDP, TCP ({@code ?transport=tcp}) or TLS ({@code turns:}), and says in plain words
 * what is wrong: Binding, Allocate with the 401 exchange, CreatePermission for a local echo peer, a datagram out
 * through the relayed address and back. An allocation it made is deleted whether it passed or not. Exit 0 only
 * when every step passed, 1 when one failed, 2 for bad arguments.
 */
@Command(
        name = "probe",
        mixinStandardHelpOptions = true,
        description = "Check a TURN relay end to end and say what is wrong.")
public final class ProbeCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(
            paramLabel = "URL",
            description = "turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT] (TLS), HOST a name or an "
                    + "address, e.g. turn:relay.example.org, turn:127.0.0.1:3478?transport=tcp, turns:[::1]:5349")
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
            names = "--tls-insecure",
            description = "With turns: take any certificate (a self-signed one, say). Without it, the certificate "
                    + "must chain to a trusted root and name HOST.")
    boolean tlsInsecure;

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
        TurnUri uri;
        try {
            uri = TurnUri.parse(url);
        } catch (IllegalArgumentException e) {
            throw new StartupException(e.getMessage(), 2);
        }
        if (user != null && (password == null) == (secretFile == null)) {
            throw new StartupException("--password or --secret-file (expected: exactly one of them)", 2);
        }
        InetSocketAddress server;
        try {
            server = new InetSocketAddress(InetAddress.getByName(uri.host()), uri.port());
        } catch (UnknownHostException e) {
            fail("resolve", "cannot resolve '" + uri.host() + "': " + e.getMessage());
            return 1;
        }
        InetSocketAddress local = new InetSocketAddress(
                server.getAddress() instanceof java.net.Inet6Address
                        ? InetAddress.getByName("::")
                        : InetAddress.getByName("0.0.0.0"),
                0);
        String name = user != null ? user : "turnpike-probe";
        String pass = password;
        if (user != null && secretFile != null) {
            Credentials.TimeLimited minted = Credentials.timeLimited(
                    SecretFiles.read("--secret-file", secretFile, System.getenv())
                            .get(0),
                    user,
                    System.currentTimeMillis() / 1000 + 3600);
            name = minted.username();
            pass = minted.password();
        }
        String secret = pass == null ? "" : pass; // no --user: a Binding needs no password
        TurnClient client;
        try {
            client = switch (uri.transport()) {
                case UDP -> new TurnClient(server, local, name, secret, realm);
                case TCP -> TurnClient.overTcp(server, name, secret, realm, timeoutMs);
                case TLS -> TurnClient.overTls(server, uri.host(), !tlsInsecure, name, secret, realm, timeoutMs);
            };
        } catch (javax.net.ssl.SSLException e) {
            fail(
                    "tls",
                    "no TLS session with " + Addresses.format(server) + ": " + e.getMessage()
                            + (tlsInsecure ? "" : " (a self-signed certificate? --tls-insecure takes any)"));
            return 1;
        } catch (IOException e) {
            fail(
                    "connect",
                    "cannot connect to " + Addresses.format(server) + " over "
                            + uri.transport().name().toLowerCase(java.util.Locale.ROOT) + ": " + e.getMessage());
            return 1;
        }
        if (uri.transport() != TurnUri.Transport.UDP) {
            ok(
                    "connect",
                    uri.transport().name().toLowerCase(java.util.Locale.ROOT) + " to " + Addresses.format(server));
        }
        try (client;
                // the echo peer: a UDP socket of this machine; it only ever sends a Binding, so needs no credentials
                TurnClient peer = new TurnClient(
                        new InetSocketAddress(server.getAddress(), server.getPort()),
                        local,
                        "turnpike-probe-peer",
                        "",
                        realm)) {
            if (user == null) {
                return bindingOnly(client, server) ? 0 : 1;
            }
            return probe(client, server, peer, uri.transport()) ? 0 : 1;
        }
    }

    /** Without --user: whether the relay answers a Binding, which its event loop does. */
    private boolean bindingOnly(TurnClient client, InetSocketAddress server) throws IOException {
        try {
            InetSocketAddress reflexive = client.binding(timeoutMs);
            ok("binding", "the relay sees this client as " + Addresses.format(reflexive));
            out.println("probe: the relay answers (no --user: allocation not checked)");
            return true;
        } catch (SocketTimeoutException e) {
            return noAnswer(server);
        }
    }

    private boolean noAnswer(InetSocketAddress server) {
        return fail(
                "binding",
                "no answer from " + Addresses.format(server) + " within " + timeoutMs
                        + " ms: a firewall in the way, the wrong port, or no relay there");
    }

    private boolean probe(TurnClient client, InetSocketAddress server, TurnClient peer, TurnUri.Transport transport)
            throws IOException {
        InetSocketAddress reflexive;
        try {
            reflexive = client.binding(timeoutMs);
        } catch (SocketTimeoutException e) {
            return noAnswer(server);
        }
        ok("binding", "the relay sees this client as " + Addresses.format(reflexive));

        StunMessage allocated =
                client.ask(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
        int code = allocated.errorCode();
        if (code >= 0) {
            return fail("allocate", refusal(allocated));
        }
        InetSocketAddress relayed = allocated.xorAddress(allocated.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
        ok("allocate", "relayed address " + Addresses.format(relayed));
        boolean passed = false;
        try {
            passed = relayThrough(client, peer, relayed, reflexive, transport);
            return passed;
        } finally {
            // an allocation left behind would hold a relay port and a quota for its lifetime (600 s)
            client.tearDown();
            if (passed) {
                out.println("probe: all passed");
            } else {
                out.println("probe: the allocation it made is deleted");
            }
            out.flush();
        }
    }

    /** Why an Allocate was refused, in an operator's words. */
    static String refusal(StunMessage response) {
        int code = response.errorCode();
        String reason = response.errorReason();
        return switch (code) {
            case 300 -> {
                int alternate = response.indexOf(StunAttribute.ALTERNATE_SERVER);
                InetSocketAddress to = alternate < 0 ? null : response.plainAddress(alternate);
                yield "the relay is draining (300 Try Alternate): new allocations go to "
                        + (to == null ? "an alternate it did not name" : Addresses.format(to));
            }
            case 401 -> "credentials refused (401): wrong user, password or secret, or another realm";
            case 438 -> "nonce refused again and again (438): the relay's clock or nonce handling";
            case 486 -> "a quota is full (486): too many allocations for this user or address";
            case 508 ->
                reason != null && reason.toLowerCase(java.util.Locale.ROOT).contains("drain")
                        ? "the relay is draining and names no alternate (508: " + reason + ")"
                        : "no relay port free (508" + (reason == null || reason.isEmpty() ? "" : ": " + reason) + ")";
            case 440 -> "no relayed address of this family (440)";
            default -> "refused with " + code + (reason == null || reason.isEmpty() ? "" : ": " + reason);
        };
    }

    private boolean relayThrough(
            TurnClient client,
            TurnClient peer,
            InetSocketAddress relayed,
            InetSocketAddress reflexive,
            TurnUri.Transport transport)
            throws IOException {
        // The echo peer's address as the relay will see it: a Binding of its own over UDP; a relay reached over
        // TCP or TLS may have no UDP listener there, and then the peer is this machine as the relay saw it.
        InetSocketAddress peerAddress;
        try {
            peerAddress = peer.binding(transport == TurnUri.Transport.UDP ? timeoutMs : Math.max(1, timeoutMs / 3));
        } catch (SocketTimeoutException e) {
            if (transport == TurnUri.Transport.UDP) {
                return fail("permission", "the echo peer got no Binding answer from the relay");
            }
            peerAddress = new InetSocketAddress(
                    reflexive.getAddress(), peer.localAddress().getPort());
        }
        InetSocketAddress echo = peerAddress;
        StunMessage permitted =
                client.ask(StunMethod.CREATE_PERMISSION, w -> w.addXorAddress(StunAttribute.XOR_PEER_ADDRESS, echo));
        if (permitted.errorCode() >= 0) {
            return fail(
                    "permission",
                    permitted.errorCode() == 403
                            ? "the relay refuses " + echo.getAddress().getHostAddress()
                                    + " as a peer (403): its peer policy (Turnpike: --allow-peer; coturn: --allowed-peer-ip)"
                            : "CreatePermission refused with " + permitted.errorCode());
        }
        ok("permission", "for the echo peer at " + Addresses.format(echo));

        byte[] token = ("turnpike-probe " + System.nanoTime()).getBytes(StandardCharsets.UTF_8);
        client.sendIndication(echo, token);
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
