package dev.turnpike.daemon.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.turnpike.daemon.Interop;
import dev.turnpike.daemon.TestCertificate;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** --tls-cert and --tls-key as certificate authorities and openssl write them, and the ways they go wrong. */
class TlsCertificatesTest {
    @TempDir
    Path dir;

    @Test
    void anEcCertificateWithItsPkcs8KeyLoads() throws Exception {
        TestCertificate pair = TestCertificate.make(dir);
        assertThat(Files.readString(pair.key())).startsWith("-----BEGIN PRIVATE KEY-----");
        assertThat(TlsCertificates.load(pair.cert(), pair.key()).getProtocol()).isEqualTo("TLS");
    }

    @Test
    void anRsaKeyInPkcs1LoadsToo() throws Exception {
        Path openssl = Interop.tool("openssl", "openssl");
        Path key = dir.resolve("rsa.pem");
        Path cert = dir.resolve("rsa-cert.pem");
        Interop.Result made =
                Interop.run(60, openssl.toString(), "genrsa", "-traditional", "-out", key.toString(), "2048");
        assertThat(made.exitCode()).as(made.output()).isZero();
        assertThat(Files.readString(key)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
        Interop.Result signed = Interop.run(
                60,
                openssl.toString(),
                "req",
                "-x509",
                "-key",
                key.toString(),
                "-out",
                cert.toString(),
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1");
        assertThat(signed.exitCode()).as(signed.output()).isZero();
        assertThat(TlsCertificates.load(cert, key)).isNotNull();
    }

    @Test
    void aKeyOfAnotherCertificateIsNamedAsSuch() throws Exception {
        TestCertificate one = TestCertificate.make(Files.createDirectories(dir.resolve("one")));
        TestCertificate other = TestCertificate.make(Files.createDirectories(dir.resolve("other")));
        assertThatThrownBy(() -> TlsCertificates.load(one.cert(), other.key()))
                .isInstanceOf(GeneralSecurityException.class)
                .hasMessage(
                        "--tls-key " + other.key() + " does not belong to the certificate in --tls-cert " + one.cert());
    }

    @Test
    void aMissingFileOrOneThatIsNoPemIsNamedWithItsFlag() throws Exception {
        TestCertificate pair = TestCertificate.make(dir);
        Path missing = dir.resolve("missing.pem");
        assertThatThrownBy(() -> TlsCertificates.load(missing, pair.key()))
                .hasMessage("--tls-cert " + missing + ": cannot read it (NoSuchFileException)");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "not a certificate\n");
        assertThatThrownBy(() -> TlsCertificates.load(garbage, pair.key()))
                .hasMessageStartingWith("--tls-cert " + garbage + ": ");
        assertThatThrownBy(() -> TlsCertificates.load(pair.cert(), garbage))
                .hasMessageStartingWith("--tls-key " + garbage + ": expected an unencrypted PEM private key");
    }
}
