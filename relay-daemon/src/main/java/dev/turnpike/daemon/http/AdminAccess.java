package dev.turnpike.daemon.http;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * Who may use an admin endpoint, one that lists users (GET /allocations) or changes state (POST /reload, POST
 * /drain): a client on loopback, or one that presents the configured token as {@code Authorization: Bearer TOKEN} (compared in constant time). Without a
 * token, only loopback.
 */
public final class AdminAccess {
    private volatile byte[] token;

    /** {@code token}: from --admin-token-file, or null for loopback only. */
    public AdminAccess(String token) {
        token(token);
    }

    /** A reload: the token from now on (null: loopback only). */
    public void token(String token) {
        this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
    }

    boolean allows(InetAddress remote, String authorization) {
        if (remote.isLoopbackAddress()) {
            return true;
        }
        byte[] token = this.token;
        if (token == null || authorization == null || !authorization.startsWith("Bearer ")) {
            return false;
        }
        byte[] presented = authorization.substring("Bearer ".length()).strip().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(presented, token);
    }
}
