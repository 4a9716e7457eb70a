package dev.turnpike.daemon.cli;

import dev.turnpike.daemon.dtls.DtlsSettings;
import dev.turnpike.daemon.stream.TlsCertificates;
import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import javax.net.ssl.SSLContext;

/** The certificate --listen-tls and --listen-dtls serve (--tls-cert, --tls-key): checked, then loaded for each. */
final class Certificates {
    private Certificates() {}

    /** Refuses a TLS or DTLS listener without its certificate, in one line naming the flag. */
    static void check(RelayOptions flags) {
        if (!flags.listenTls.isEmpty() && (flags.tlsCert == null || flags.tlsKey == null)) {
            throw bad("--listen-tls " + Addresses.format(flags.listenTls.get(0))
                    + " (expected: with --tls-cert and --tls-key)");
        }
        if (!flags.listenDtls.isEmpty() && (flags.tlsCert == null || flags.tlsKey == null)) {
            throw bad("--listen-dtls " + Addresses.format(flags.listenDtls.get(0))
                    + " (expected: with --tls-cert and --tls-key)");
        }
    }

    /** The TLS listeners' context, or null without --listen-tls. */
    static SSLContext tls(RelayOptions flags, Map<String, String> environment) {
        return flags.listenTls.isEmpty() ? null : context(flags, "TLS", environment);
    }

    /** What the DTLS listeners serve, or null without --listen-dtls. */
    static DtlsSettings dtls(RelayOptions flags, Map<String, String> environment) {
        return flags.listenDtls.isEmpty()
                ? null
                : new DtlsSettings(
                        context(flags, "DTLS", environment), flags.maxLifetime * 1_000_000_000L, flags.receiveBuffer);
    }

    private static SSLContext context(RelayOptions flags, String protocol, Map<String, String> environment) {
        try {
            return TlsCertificates.load(
                    Path.of(flags.tlsCert), SecretFiles.resolve(flags.tlsKey, environment), protocol);
        } catch (java.security.GeneralSecurityException | IOException e) {
            throw bad(e.getMessage());
        }
    }

    private static StartupException bad(String message) {
        return new StartupException(message, 2);
    }
}
