package dev.turnpike.core;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.auth.NonceIssuer;
import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.TurnAttributes;
import java.net.InetSocketAddress;
import java.util.List;

/**
 * RFC 8489 §9.2, the long-term credential mechanism, as RFC 8656 §7.2 asks of every TURN request: verifies a
 * request's MESSAGE-INTEGRITY(-SHA256) against its user's key and our nonce, and answers what it proved, or
 * challenges (401, 438) within the per-source reply rate and answers null.
 */
final class RequestAuthentication {
    /** Who a request proved to be, and how its answers are signed. */
    record Authenticated(Credentials.Key key, byte[] responseKey, boolean sha256) {}

    private Credentials credentials;
    /** The running relay's nonce key: a reload keeps it, so that every nonce already issued stays valid. */
    private final byte[] nonceKey;

    private long nonceLifetimeSeconds;
    private NonceIssuer nonces;
    private final MessageIntegrity integrity;
    private long challengeRate;
    private long challengeBurst;
    private ChallengeLimiter challenges;
    private final Responses responses;
    private final RelayCounters counters;

    /** What the operator revoked; consulted once a request has proved who it is. */
    private final Revocations revocations;

    RequestAuthentication(
            RelayConfig config,
            MessageIntegrity integrity,
            Responses responses,
            RelayCounters counters,
            Revocations revocations) {
        this.revocations = revocations;
        this.credentials = config.credentials;
        this.nonceKey = config.nonceKey.clone();
        this.nonceLifetimeSeconds = config.nonceLifetimeSeconds;
        this.nonces = new NonceIssuer(nonceKey, nonceLifetimeSeconds);
        this.integrity = integrity;
        this.challengeRate = config.challengeRate;
        this.challengeBurst = config.challengeBurst;
        this.challenges = new ChallengeLimiter(challengeRate, challengeBurst);
        this.responses = responses;
        this.counters = counters;
    }

    /**
     * A reload: the next request is checked against {@code next}'s users, secrets and realm. A changed nonce
     * lifetime or reply rate starts afresh (the reply-rate table forgets its sources); the nonce key does not
     * change.
     */
    void reconfigure(RelayConfig next) {
        credentials = next.credentials;
        if (next.nonceLifetimeSeconds != nonceLifetimeSeconds) {
            nonceLifetimeSeconds = next.nonceLifetimeSeconds;
            nonces = new NonceIssuer(nonceKey, nonceLifetimeSeconds);
        }
        if (next.challengeRate != challengeRate || next.challengeBurst != challengeBurst) {
            challengeRate = next.challengeRate;
            challengeBurst = next.challengeBurst;
            challenges = new ChallengeLimiter(challengeRate, challengeBurst);
        }
    }

    /**
     * Who sent {@code request}, or null after answering it (a challenge, or 400 for malformed authentication
     * attributes; nothing at all past the source's reply rate).
     */
    Authenticated authenticate(
            StunMessage request, long nowNs, long epochSeconds, int listener, InetSocketAddress client, Outbox out) {
        return authenticate(request, nowNs, epochSeconds, listener, client, null, out);
    }

    /**
     * As above, and a nonce issued to {@code nonceAlso} (or null) is good too: an RFC 6062 ConnectionBind comes on
     * a new connection with the nonce of the control connection it belongs to.
     */
    Authenticated authenticate(
            StunMessage request,
            long nowNs,
            long epochSeconds,
            int listener,
            InetSocketAddress client,
            InetSocketAddress nonceAlso,
            Outbox out) {
        boolean sha1 = request.integrityIndex() >= 0;
        boolean sha256 = request.integritySha256Index() >= 0;
        if (!sha1 && !sha256) {
            counters.authFailure(RelayCounters.AuthFailure.NO_INTEGRITY);
            challenge(
                    ErrorCode.UNAUTHENTICATED,
                    "no MESSAGE-INTEGRITY: the first request of a client",
                    nowNs,
                    listener,
                    client,
                    out);
            return null;
        }
        // Until a key verifies, every reply below goes through challenge() or refuse(): rate-limited.
        int username = request.indexOf(StunAttribute.USERNAME);
        int userHash = request.indexOf(StunAttribute.USERHASH);
        String realm = request.string(StunAttribute.REALM);
        String nonce = request.string(StunAttribute.NONCE);
        if ((username < 0 && userHash < 0) || realm == null || nonce == null) {
            counters.authFailure(RelayCounters.AuthFailure.MALFORMED);
            refuse("MESSAGE-INTEGRITY without USERNAME or USERHASH, REALM and NONCE", nowNs, listener, client, out);
            return null;
        }
        NonceIssuer.Check check = nonces.check(nonce, client, nowNs);
        if (check == NonceIssuer.Check.INVALID && nonceAlso != null) {
            check = nonces.check(nonce, nonceAlso, nowNs);
        }
        if (check != NonceIssuer.Check.VALID) {
            counters.authFailure(
                    check == NonceIssuer.Check.STALE
                            ? RelayCounters.AuthFailure.STALE_NONCE
                            : RelayCounters.AuthFailure.INVALID_NONCE);
            challenge(
                    ErrorCode.STALE_NONCE,
                    check == NonceIssuer.Check.STALE
                            ? "nonce expired (--nonce-lifetime)"
                            : "nonce not issued by this relay to this client address",
                    nowNs,
                    listener,
                    client,
                    out);
            return null;
        }
        // RFC 8489 §9.2.4: a client that saw our nonce cookie echoes PASSWORD-ALGORITHMS as we sent it (MD5 then
        // SHA-256, each without parameters) and picks one with PASSWORD-ALGORITHM; one that sends neither uses MD5.
        int algorithm = LongTermKey.ALGORITHM_MD5;
        if (request.has(StunAttribute.PASSWORD_ALGORITHMS) || request.has(StunAttribute.PASSWORD_ALGORITHM)) {
            algorithm = TurnAttributes.passwordAlgorithm(request);
            if (!TurnAttributes.passwordAlgorithmsAre(request, LongTermKey.ALGORITHM_MD5, LongTermKey.ALGORITHM_SHA256)
                    || (algorithm != LongTermKey.ALGORITHM_MD5 && algorithm != LongTermKey.ALGORITHM_SHA256)) {
                counters.authFailure(RelayCounters.AuthFailure.MALFORMED);
                refuse(
                        "PASSWORD-ALGORITHMS not as offered, or a PASSWORD-ALGORITHM not offered",
                        nowNs,
                        listener,
                        client,
                        out);
                return null;
            }
        }
        if (!realm.equals(credentials.realm())) {
            counters.authFailure(RelayCounters.AuthFailure.WRONG_REALM);
            challenge(ErrorCode.UNAUTHENTICATED, "REALM is not this relay's", nowNs, listener, client, out);
            return null;
        }
        List<Credentials.Key> candidates = username >= 0
                ? credentials.candidates(request.string(StunAttribute.USERNAME), epochSeconds)
                : credentials.candidatesByHash(request.bytes(userHash));
        Authenticated match = null;
        for (Credentials.Key candidate : candidates) {
            byte[] key = algorithm == LongTermKey.ALGORITHM_SHA256 ? candidate.sha256() : candidate.md5();
            // When both are present, the stronger MESSAGE-INTEGRITY-SHA256 decides (RFC 8489 §9.2.4). Every
            // candidate is checked, a match or not, so that the time taken says nothing.
            boolean valid = sha256 ? integrity.verifySha256(request, key) : integrity.verifySha1(request, key);
            if (valid && match == null && !credentials.isDecoy(candidate)) {
                match = new Authenticated(candidate, key, sha256);
            }
        }
        if (match != null && revocations.revokes(match.key().username(), epochSeconds)) {
            counters.authFailure(RelayCounters.AuthFailure.REVOKED);
            challenge(ErrorCode.UNAUTHENTICATED, "credentials revoked by the operator", nowNs, listener, client, out);
            return null;
        }
        if (match == null) {
            counters.authFailure(RelayCounters.AuthFailure.BAD_CREDENTIALS);
            challenge(
                    ErrorCode.UNAUTHENTICATED,
                    "wrong password, unknown user, or expired time-limited credentials",
                    nowNs,
                    listener,
                    client,
                    out);
        }
        return match;
    }

    /** 400 to a request whose authentication attributes are malformed; rate-limited like a challenge. */
    private void refuse(String why, long nowNs, int listener, InetSocketAddress client, Outbox out) {
        if (withinReplyRate(client, nowNs)) {
            responses.error(listener, client, ErrorCode.BAD_REQUEST, why, out);
        }
    }

    /**
     * 401 or 438 with REALM, a fresh NONCE and PASSWORD-ALGORITHMS, unsigned (RFC 8489 §9.2.4); nothing when the
     * source is over its reply rate (anyone can send these with a forged source address).
     */
    private void challenge(
            ErrorCode error, String why, long nowNs, int listener, InetSocketAddress client, Outbox out) {
        if (!withinReplyRate(client, nowNs)) {
            return;
        }
        counters.errorResponses++;
        responses
                .begin(StunMethod.CLASS_ERROR)
                .addErrorCode(error.code, error.reason)
                .addString(StunAttribute.REALM, credentials.realm())
                .addString(StunAttribute.NONCE, nonces.issue(client, nowNs))
                .addPasswordAlgorithms(LongTermKey.ALGORITHM_MD5, LongTermKey.ALGORITHM_SHA256);
        responses.refusing(error, why);
        responses.finish(listener, client, out);
    }

    private boolean withinReplyRate(InetSocketAddress client, long nowNs) {
        if (challenges.allow(client.getAddress(), nowNs)) {
            return true;
        }
        counters.drop(RelayCounters.Drop.CHALLENGE_LIMITED);
        return false;
    }

    /** Whether sources' reply budgets are remembered, so that a timer should come to forget them. */
    boolean remembersSources() {
        return challenges.sources() > 0;
    }

    /** Forgets sources whose budgets have refilled; answers whether any are still remembered. */
    boolean sweep(long nowNs) {
        return challenges.sweep(nowNs);
    }
}
