package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

/** A self-signed certificate for 127.0.0.1 and ::1, made with openssl when a test needs one; never checked in. */
public record TestCertificate(Path cert, Path key) {
    /** Makes a P-256 certificate and its PKCS#8 key in {@code dir}. */
    public static TestCertificate make(Path dir) throws Exception {
        Path openssl = Interop.tool("openssl", "openssl");
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Interop.Result made = Interop.run(
                60,
                openssl.toString(),
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-keyout",
                key.toString(),
                "-out",
                cert.toString(),
                "-days",
                "2",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,IP:::1");
        assertThat(made.exitCode()).as(made.output()).isZero();
        return new TestCertificate(cert, key);
    }

    /** The flags of a TLS listener on {@code address} serving this certificate. */
    String[] tlsListener(String address) {
        return new String[] {"--listen-tls", address, "--tls-cert", cert.toString(), "--tls-key", key.toString()};
    }
}
