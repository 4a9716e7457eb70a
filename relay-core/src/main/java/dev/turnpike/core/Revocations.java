package dev.turnpike.core;

import java.util.HashMap;
import java.util.Map;

/**
 * Credentials the operator revoked, each until a time or for good: a whole username (a static user, or one
 * time-limited {@code EXPIRY:name[:tag]} credential) or a name (every credential minted for it, whatever its expiry
 * and tag). A request that authenticates with a revoked credential is refused as if its password were wrong (401),
 * and the relay ends the allocations it holds at the moment of the revocation. Wall-clock times, since revocations
 * outlive the process. Control plane only: consulted once per authenticated request.
 */
public final class Revocations {
    /** Until when a revocation for good lasts. */
    public static final long FOREVER = Long.MAX_VALUE;

    private final HashMap<String, Long> untilEpochSeconds = new HashMap<>();

    /** Revokes {@code name} (a username or a name) until {@code untilEpochSeconds} (or {@link #FOREVER}). */
    public void revoke(String name, long untilEpochSeconds) {
        this.untilEpochSeconds.put(name, untilEpochSeconds);
    }

    /** Lifts the revocation of {@code name}; answers whether there was one. */
    public boolean lift(String name) {
        return untilEpochSeconds.remove(name) != null;
    }

    /** Whether {@code username}, or the name it was minted for, is revoked at {@code epochSeconds}. */
    public boolean revokes(String username, long epochSeconds) {
        return revoked(username, epochSeconds) || revoked(Usernames.account(username), epochSeconds);
    }

    private boolean revoked(String name, long epochSeconds) {
        Long until = untilEpochSeconds.get(name);
        return until != null && epochSeconds < until;
    }

    /**
     * Why {@code name} cannot be revoked, or null: STUN's USERNAME holds at most 513 bytes (RFC 8489 §14.3), and a
     * control character has no place in a name (nor in the state file's lines).
     */
    public static String checkName(String name) {
        if (name.isEmpty() || name.length() > 513) {
            return "a name of 1 to 513 characters";
        }
        return name.chars().anyMatch(Character::isISOControl) ? "a name without control characters" : null;
    }

    /** When a revocation ends, in words: "for good", or "until" an ISO-8601 instant. */
    public static String describe(long untilEpochSeconds) {
        return untilEpochSeconds == FOREVER
                ? "for good"
                : "until " + java.time.Instant.ofEpochSecond(untilEpochSeconds);
    }

    /** Every revocation and its end, as it stands (for the admin view and the state file). */
    public Map<String, Long> all() {
        return Map.copyOf(untilEpochSeconds);
    }
}
