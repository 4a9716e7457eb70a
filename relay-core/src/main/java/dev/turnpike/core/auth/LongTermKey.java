package dev.turnpike.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The long-term credential key (RFC 8489 §9.2.2): a hash of {@code username ":" realm ":" password} with
 * the password prepared by SASLprep. MD5 keys MESSAGE-INTEGRITY; SHA-256 keys MESSAGE-INTEGRITY-SHA256 when
 * the client chose that PASSWORD-ALGORITHM.
 */
public final class LongTermKey {
    /** RFC 8489 §18.5 password algorithm numbers. */
    public static final int ALGORITHM_MD5 = 0x0001;

    public static final int ALGORITHM_SHA256 = 0x0002;

    private LongTermKey() {}

    public static byte[] md5(String username, String realm, String password) {
        return digest("MD5", username, realm, password);
    }

    public static byte[] sha256(String username, String realm, String password) {
        return digest("SHA-256", username, realm, password);
    }

    /** USERHASH = SHA-256(username ":" realm) (RFC 8489 §14.4). */
    public static byte[] userHash(String username, String realm) {
        try {
            return MessageDigest.getInstance("SHA-256")
                    .digest((username + ":" + realm).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static byte[] digest(String algorithm, String username, String realm, String password) {
        String input = username + ":" + realm + ":" + SaslPrep.prepare(password);
        try {
            return MessageDigest.getInstance(algorithm).digest(input.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has " + algorithm, e);
        }
    }
}
