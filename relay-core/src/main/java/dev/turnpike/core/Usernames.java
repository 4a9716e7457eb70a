package dev.turnpike.core;

/**
 * What a username says about whom it was minted for. A time-limited (TURN REST API) username is {@code
 * EXPIRY:name}, optionally {@code EXPIRY:name:tag} (the tag set when the credential was minted, e.g. a customer,
 * for usage by tag); any other username is a static user's. Quotas and usage count the name, so that minting fresh
 * expiries does not mint fresh quota.
 */
public final class Usernames {
    private Usernames() {}

    /** The name a username counts as: the name of {@code EXPIRY:name[:tag]}, else the username itself. */
    public static String account(String username) {
        int first = username.indexOf(':');
        if (first < 0 || !expiry(username, first)) {
            return username;
        }
        int second = username.indexOf(':', first + 1);
        return second < 0 ? username.substring(first + 1) : username.substring(first + 1, second);
    }

    /** The tag of {@code EXPIRY:name:tag}, or null. */
    public static String tag(String username) {
        int first = username.indexOf(':');
        if (first < 0 || !expiry(username, first)) {
            return null;
        }
        int second = username.indexOf(':', first + 1);
        return second < 0 || second == username.length() - 1 ? null : username.substring(second + 1);
    }

    /** Whether the username starts with decimal digits up to {@code colon}: a REST credential's expiry. */
    private static boolean expiry(String username, int colon) {
        if (colon == 0) {
            return false;
        }
        for (int i = 0; i < colon; i++) {
            if (username.charAt(i) < '0' || username.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }
}
