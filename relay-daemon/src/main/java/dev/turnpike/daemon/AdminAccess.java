package dev.turnpike.daemon;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who may read an admin endpoint that lists users (and, later, change state): a client on loopback, or one that
 * presents the configured token as {@code Authorization: Bearer TOKEN} (compared in constant time). Without a
 * token, only loopback.
 */
final class AdminAccess {
    private final byte[] token;

    /** {@code token}: from --admin-token-file, or null for loopback only. */
    AdminAccess(String token) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    boolean allows(InetAddress remote, String authorization) {
        if (remote.isLoopbackAddress()) {
            return true;
        }
        if (token == null || authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        byte[] presented = authorization.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(presented, token);
    }
}
