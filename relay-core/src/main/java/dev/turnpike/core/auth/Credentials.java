package dev.turnpike.core.auth;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who may allocate: static users ({@code --user}, {@code --users-file}) and shared-secret time-limited
 * credentials ({@code --auth-secret}, the "TURN REST API" scheme of coturn, eturnal and Pion): the username
 * is {@code EXPIRY_UNIX_SECONDS} or {@code EXPIRY_UNIX_SECONDS:name} and the password is
 * base64(HMAC-SHA1(secret, username)). Several secrets may be valid at once, for rotation.
 *
 * <p>Keys are derived here; secrets and passwords never leave this class and are never logged.
 */
public final class Credentials {
    /** The keys one username may have signed with: MD5 for MESSAGE-INTEGRITY, SHA-256 for -SHA256. */
    public record Key(String username, byte[] md5, byte[] sha256) {}

    private final String realm;
    private final Map<String, Key> users = new HashMap<>();
    private final Map<String, Key> usersByHash = new HashMap<>();
    private final List<byte[]> secrets;
    private final Key decoy;

    public Credentials(String realm, Map<String, String> passwords, List<String> sharedSecrets) {
        this.realm = realm;
        for (Map.Entry<String, String> user : passwords.entrySet()) {
            Key key = derive(user.getKey(), user.getValue());
            users.put(user.getKey(), key);
            usersByHash.put(hex(LongTermKey.userHash(user.getKey(), realm)), key);
        }
        List<byte[]> s = new ArrayList<>();
        for (String secret : sharedSecrets) {
            s.add(secret.getBytes(StandardCharsets.UTF_8));
        }
        this.secrets = List.copyOf(s);
        this.decoy = derive("turnpike-decoy", "turnpike-decoy"); // never accepted: see isDecoy
    }

    public String realm() {
        return realm;
    }

    /**
     * The keys to try for a USERNAME at wall-clock {@code epochSeconds}. Never empty: an unknown or expired
     * user gets a decoy key that verifies nothing, so a miss costs the same HMAC work as a hit.
     */
    public List<Key> candidates(String username, long epochSeconds) {
        Key user = users.get(username);
        if (user != null) {
            return List.of(user);
        }
        if (!secrets.isEmpty()) {
            long expiry = restExpiry(username);
            if (expiry > epochSeconds) {
                List<Key> keys = new ArrayList<>(secrets.size());
                for (byte[] secret : secrets) {
                    keys.add(derive(username, restPassword(secret, username)));
                }
                return keys;
            }
        }
        return List.of(decoy);
    }

    /** The static user whose USERHASH (SHA-256 of username:realm) this is; REST users have no stable hash. */
    public List<Key> candidatesByHash(byte[] userHash) {
        Key user = usersByHash.get(hex(userHash));
        return List.of(user != null ? user : decoy);
    }

    /** True for the decoy key that {@link #candidates} answers for unknown users. */
    public boolean isDecoy(Key key) {
        return key == decoy;
    }

    /** The expiry of a REST username ("1700000000" or "1700000000:alice"), or -1 if it is not one. */
    static long restExpiry(String username) {
        int colon = username.indexOf(':');
        String digits = colon < 0 ? username : username.substring(0, colon);
        if (digits.isEmpty() || digits.length() > 18 || !digits.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Long.parseLong(digits);
    }

    /** A time-limited username and its password, as an application's backend hands them to a client. */
    public record TimeLimited(String username, String password) {}

    /** Credentials for {@code name} that the relay accepts until {@code expiryEpochSeconds}: "EXPIRY:name". */
    public static TimeLimited timeLimited(String secret, String name, long expiryEpochSeconds) {
        return timeLimited(secret, name, null, expiryEpochSeconds);
    }

    /**
     * The same, carrying {@code tag} (null: none) for usage by tag: "EXPIRY:name:tag". The tag is inside what the
     * HMAC signs, so a client cannot change it.
     */
    public static TimeLimited timeLimited(String secret, String name, String tag, long expiryEpochSeconds) {
        String username = expiryEpochSeconds + ":" + name + (tag == null ? "" : ":" + tag);
        return new TimeLimited(username, restPassword(secret.getBytes(StandardCharsets.UTF_8), username));
    }

    /** base64(HMAC-SHA1(secret, username)): what the application's backend hands its clients. */
    public static String restPassword(byte[] secret, String username) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret, "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has HmacSHA1", e);
        }
    }

    private Key derive(String username, String password) {
        return new Key(
                username, LongTermKey.md5(username, realm, password), LongTermKey.sha256(username, realm, password));
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
