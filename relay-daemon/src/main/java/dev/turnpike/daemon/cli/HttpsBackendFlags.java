package dev.turnpike.daemon.cli;

import dev.turnpike.daemon.stream.HttpsBackend;
import dev.turnpike.daemon.sys.Addresses;
import java.net.InetSocketAddress;

/** --https-backend and the flags that go with it, checked: each refusal one line naming the flag. */
final class HttpsBackendFlags {
    private HttpsBackendFlags() {}

    /** The web server behind the TLS port, or null without --https-backend. */
    static HttpsBackend from(RelayOptions flags) {
        if (flags.httpsBackendIdleTimeout < 1 || flags.httpsBackendIdleTimeout > 86_400) {
            throw bad(
                    "--https-backend-idle-timeout " + flags.httpsBackendIdleTimeout + " (expected: 1..86400 seconds)");
        }
        if (flags.httpsBackend == null) {
            if (flags.httpsBackendProxyProtocol) {
                throw bad("--https-backend-proxy-protocol (expected: with --https-backend)");
            }
            if (flags.httpsBackendH2 != null) {
                throw bad("--https-backend-h2 " + Addresses.format(flags.httpsBackendH2)
                        + " (expected: with --https-backend, where HTTP/1.1 goes)");
            }
            return null;
        }
        if (flags.listenTls.isEmpty()) {
            throw bad("--https-backend " + Addresses.format(flags.httpsBackend)
                    + " (expected: with --listen-tls, whose port it shares)");
        }
        webServer("--https-backend", flags.httpsBackend);
        if (flags.httpsBackendH2 != null) {
            webServer("--https-backend-h2", flags.httpsBackendH2);
        }
        return new HttpsBackend(
                flags.httpsBackend,
                flags.httpsBackendH2,
                flags.httpsBackendProxyProtocol,
                flags.httpsBackendIdleTimeout * 1_000_000_000L);
    }

    private static void webServer(String flag, InetSocketAddress address) {
        if (address.getPort() == 0 || address.getAddress().isAnyLocalAddress()) {
            throw bad(flag + " " + Addresses.format(address)
                    + " (expected: the web server's address and port, e.g. 127.0.0.1:8080)");
        }
    }

    private static StartupException bad(String message) {
        return new StartupException(message, 2);
    }
}
