package dev.turnpike.daemon.stream;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * {@code --tls-cert} and {@code --tls-key}: a PEM certificate chain and its PEM private key (PKCS#8, or an RSA key in
 * PKCS#1), as a certificate authority or Let's Encrypt ({@code fullchain.pem}, {@code privkey.pem}) gives them,
 * turned into the server's TLS context. Every failure is one line naming the file and what is wrong: missing,
 * unreadable, not PEM, or a key that does not belong to the certificate.
 */
public final class TlsCertificates {
    /** TLS 1.3 and 1.2 only; the JDK's default cipher suites for them leave out every weak one. */
    static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private TlsCertificates() {}

    /** The context for {@code certFile} and {@code keyFile}; throws with a message for the operator. */
    public static SSLContext load(Path certFile, Path keyFile) throws GeneralSecurityException, IOException {
        return load(certFile, keyFile, "TLS");
    }

    /** As {@link #load(Path, Path)}, for {@code protocol}: "TLS", or "DTLS" for the DTLS listeners. */
    public static SSLContext load(Path certFile, Path keyFile, String protocol)
            throws GeneralSecurityException, IOException {
        List<X509Certificate> chain = certificates(certFile);
        PrivateKey key = privateKey(keyFile);
        matches(chain.get(0), key, certFile, keyFile);
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        char[] password = new char[0];
        store.setKeyEntry("turnpike", key, password, chain.toArray(Certificate[]::new));
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext context = SSLContext.getInstance(protocol);
        context.init(keys.getKeyManagers(), null, new SecureRandom());
        return context;
    }

    private static List<X509Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
        byte[] bytes = read("--tls-cert", file);
        Collection<? extends Certificate> all;
        try {
            all = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes));
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException(
                    "--tls-cert " + file + ": not a PEM certificate (" + e.getMessage() + ")");
        }
        if (all.isEmpty()) {
            throw new GeneralSecurityException("--tls-cert " + file + ": no certificate in it (expected PEM)");
        }
        return all.stream().map(X509Certificate.class::cast).toList();
    }

    private static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
        String pem = new String(read("--tls-key", file), StandardCharsets.US_ASCII);
        byte[] der;
        if (pem.contains("-----BEGIN PRIVATE KEY-----")) {
            der = base64Between(pem, "PRIVATE KEY");
        } else if (pem.contains("-----BEGIN RSA PRIVATE KEY-----")) {
            der = rsaPkcs1ToPkcs8(base64Between(pem, "RSA PRIVATE KEY"));
        } else {
            throw new GeneralSecurityException("--tls-key " + file
                    + ": expected an unencrypted PEM private key, BEGIN PRIVATE KEY (convert others with openssl pkcs8"
                    + " -topk8 -nocrypt)");
        }
        for (String algorithm : new String[] {"RSA", "EC", "Ed25519", "Ed448"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException e) {
                // try the next kind of key
            }
        }
        throw new GeneralSecurityException("--tls-key " + file + ": not an RSA, EC or EdDSA private key");
    }

    /** Signs with the key and verifies with the certificate: the one test that holds for every kind of key. */
    private static void matches(X509Certificate certificate, PrivateKey key, Path certFile, Path keyFile)
            throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            default -> key.getAlgorithm(); // Ed25519, Ed448
        };
        byte[] probe = new byte[32];
        new SecureRandom().nextBytes(probe);
        Signature signer = Signature.getInstance(algorithm);
        signer.initSign(key);
        signer.update(probe);
        byte[] signature = signer.sign();
        Signature verifier = Signature.getInstance(algorithm);
        try {
            verifier.initVerify(certificate.getPublicKey());
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            // a key of another kind than the certificate's: a mismatch all the same
        }
        throw new GeneralSecurityException(
                "--tls-key " + keyFile + " does not belong to the certificate in --tls-cert " + certFile);
    }

    private static byte[] read(String flag, Path file) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException(
                    flag + " " + file + ": cannot read it (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static byte[] base64Between(String pem, String label) throws GeneralSecurityException {
        int begin = pem.indexOf("-----BEGIN " + label + "-----");
        int end = pem.indexOf("-----END " + label + "-----", begin);
        if (begin < 0 || end < 0) {
            throw new GeneralSecurityException("no END " + label);
        }
        String body = pem.substring(begin + label.length() + 16, end).replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException e) {
            throw new GeneralSecurityException("bad base64 in " + label);
        }
    }

    /** PKCS#1 RSAPrivateKey inside PKCS#8's PrivateKeyInfo: version 0, rsaEncryption, the key as an OCTET STRING. */
    private static byte[] rsaPkcs1ToPkcs8(byte[] pkcs1) {
        byte[] algorithm = {
            0x30,
            0x0D,
            0x06,
            0x09,
            0x2A,
            (byte) 0x86,
            0x48,
            (byte) 0x86,
            (byte) 0xF7,
            0x0D,
            0x01,
            0x01,
            0x01,
            0x05,
            0x00
        };
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {0x02, 0x01, 0x00});
        body.writeBytes(algorithm);
        body.write(0x04);
        body.writeBytes(derLength(pkcs1.length));
        body.writeBytes(pkcs1);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(0x30);
        all.writeBytes(derLength(body.size()));
        all.writeBytes(body.toByteArray());
        return all.toByteArray();
    }

    private static byte[] derLength(int length) {
        if (length < 0x80) {
            return new byte[] {(byte) length};
        }
        if (length < 0x100) {
            return new byte[] {(byte) 0x81, (byte) length};
        }
        if (length < 0x10000) {
            return new byte[] {(byte) 0x82, (byte) (length >> 8), (byte) length};
        }
        return new byte[] {(byte) 0x83, (byte) (length >> 16), (byte) (length >> 8), (byte) length};
    }
}
