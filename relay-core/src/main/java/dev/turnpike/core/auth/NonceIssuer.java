package dev.turnpike.core.auth;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Stateless nonces: the issue time and an HMAC of (issue time, client address) under a per-process key, so a
 * nonce needs no table to verify and cannot be replayed from another address or after its lifetime.
 *
 * <pre>
 * obMatJos2 wAAA  5f3a0c21  9c1e...(24 hex)
 * |cookie|  |features| issue s  HMAC-SHA256(key, issue || ip || port), first 12 bytes
 * </pre>
 *
 * The RFC 8489 §9.2 cookie with the "password algorithms" and "username anonymity" feature bits tells RFC
 * 8489 clients that PASSWORD-ALGORITHMS and USERHASH may be used; older clients echo it as an opaque string.
 */
public final class NonceIssuer {
    public static final String COOKIE = "obMatJos2";
    /** Base64 of the 24 feature bits 0xC00000: bit 0 password algorithms, bit 1 username anonymity. */
    public static final String FEATURES = "wAAA";

    private static final int MAC_BYTES = 12;
    private static final int LENGTH = COOKIE.length() + FEATURES.length() + 8 + 2 * MAC_BYTES;
    private static final HexFormat HEX = HexFormat.of();

    public enum Check {
        VALID,
        /** Well-formed and ours, but older than the nonce lifetime. */
        STALE,
        /** Not one we issued, or issued to another address. */
        INVALID
    }

    private final Mac mac;
    private final long lifetimeSeconds;

    public NonceIssuer(byte[] key, long lifetimeSeconds) {
        try {
            this.mac = Mac.getInstance("HmacSHA256");
            this.mac.init(new SecretKeySpec(key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA256", e);
        }
        this.lifetimeSeconds = lifetimeSeconds;
    }

    public String issue(InetSocketAddress client, long nowNs) {
        return spell((int) (nowNs / 1_000_000_000L), client);
    }

    private String spell(int issued, InetSocketAddress client) {
        return COOKIE + FEATURES + HEX.toHexDigits(issued) + HEX.formatHex(tag(issued, client));
    }

    public Check check(String nonce, InetSocketAddress client, long nowNs) {
        if (nonce == null || nonce.length() != LENGTH || !nonce.startsWith(COOKIE + FEATURES)) {
            return Check.INVALID;
        }
        int at = COOKIE.length() + FEATURES.length();
        int issued;
        try {
            issued = (int) Long.parseLong(nonce, at, at + 8, 16);
        } catch (IllegalArgumentException e) {
            return Check.INVALID;
        }
        // Compared as issued, character for character: parsing would also take "5F3A" for "5f3a" or a sign.
        String expected = spell(issued, client);
        if (!MessageDigest.isEqual(
                nonce.getBytes(StandardCharsets.ISO_8859_1), expected.getBytes(StandardCharsets.ISO_8859_1))) {
            return Check.INVALID;
        }
        long ageSeconds = nowNs / 1_000_000_000L - issued;
        return ageSeconds >= 0 && ageSeconds < lifetimeSeconds ? Check.VALID : Check.STALE;
    }

    private byte[] tag(int issued, InetSocketAddress client) {
        mac.update(new byte[] {(byte) (issued >>> 24), (byte) (issued >>> 16), (byte) (issued >>> 8), (byte) issued});
        mac.update(client.getAddress().getAddress());
        mac.update(new byte[] {(byte) (client.getPort() >>> 8), (byte) client.getPort()});
        byte[] full = mac.doFinal();
        byte[] tag = new byte[MAC_BYTES];
        System.arraycopy(full, 0, tag, 0, MAC_BYTES);
        return tag;
    }
}
