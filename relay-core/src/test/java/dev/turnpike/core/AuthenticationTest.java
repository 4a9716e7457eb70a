package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.CLIENT2;
import static dev.turnpike.core.Harness.KEY;
import static dev.turnpike.core.Harness.REALM;
import static dev.turnpike.core.Harness.USER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.auth.Credentials;
import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.auth.NonceIssuer;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** RFC 8489 §9.2 long-term credentials and the shared-secret (TURN REST) scheme. */
class AuthenticationTest {
    private final Harness h = new Harness();
    private final MessageIntegrity integrity = new MessageIntegrity();

    @Test
    void anUnsignedRequestIsChallengedWithRealmNonceAndPasswordAlgorithms() {
        StunMessage challenge = h.send(CLIENT, Req.allocate());
        assertThat(challenge.errorCode()).isEqualTo(401);
        assertThat(challenge.string(StunAttribute.REALM)).isEqualTo(REALM);
        assertThat(challenge.string(StunAttribute.NONCE)).startsWith(NonceIssuer.COOKIE + NonceIssuer.FEATURES);
        assertThat(challenge.has(StunAttribute.PASSWORD_ALGORITHMS)).isTrue();
        assertThat(challenge.has(StunAttribute.MESSAGE_INTEGRITY)).isFalse();
        assertThat(h.sockets.opened).isEmpty();
    }

    @Test
    void aWrongPasswordIs401AndAnUnknownUserLooksTheSame() {
        String nonce = h.nonce(CLIENT);
        StunMessage wrong =
                h.send(CLIENT, Req.allocate().auth(USER, REALM, nonce, LongTermKey.md5(USER, REALM, "guess")));
        StunMessage unknown =
                h.send(CLIENT, Req.allocate().auth("mallory", REALM, nonce, LongTermKey.md5("mallory", REALM, "x")));
        assertThat(wrong.errorCode()).isEqualTo(401);
        assertThat(unknown.errorCode()).isEqualTo(401);
        assertThat(wrong.has(StunAttribute.NONCE)).isTrue();
        assertThat(h.sockets.opened).isEmpty();
    }

    @Test
    void aSignedRequestMissingUsernameRealmOrNonceIs400() {
        String nonce = h.nonce(CLIENT);
        assertThat(h.send(CLIENT, Req.allocate().auth(null, REALM, nonce, KEY)).errorCode())
                .isEqualTo(400);
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, null, nonce, KEY)).errorCode())
                .isEqualTo(400);
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, REALM, null, KEY)).errorCode())
                .isEqualTo(400);
    }

    @Test
    void aNonceExpiresAndThenEarns438WithAFreshOne() {
        String nonce = h.nonce(CLIENT);
        h.advanceSeconds(601);
        StunMessage stale = h.send(CLIENT, Req.allocate().auth(USER, REALM, nonce, KEY));
        assertThat(stale.errorCode()).isEqualTo(438);
        String fresh = stale.string(StunAttribute.NONCE);
        assertThat(fresh).isNotEqualTo(nonce);
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, REALM, fresh, KEY)).errorCode())
                .isEqualTo(-1);
    }

    @Test
    void aNonceIssuedToAnotherAddressIs438() {
        String nonce = h.nonce(CLIENT);
        assertThat(h.send(CLIENT2, Req.allocate().auth(USER, REALM, nonce, KEY)).errorCode())
                .isEqualTo(438);
    }

    @Test
    void aNonceWeNeverIssuedIs438() {
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, REALM, "f//499k954d6OL34oL9FSTvy64sA", KEY))
                        .errorCode())
                .isEqualTo(438);
    }

    @Test
    void anotherRealmIs401() {
        String nonce = h.nonce(CLIENT);
        byte[] key = LongTermKey.md5(USER, "other.org", Harness.PASSWORD);
        assertThat(h.send(CLIENT, Req.allocate().auth(USER, "other.org", nonce, key))
                        .errorCode())
                .isEqualTo(401);
    }

    @Test
    void sharedSecretCredentialsAreAcceptedUntilTheyExpire() {
        String username = (h.epochSeconds + 60) + ":carol";
        String password = Credentials.restPassword(Harness.SECRET.getBytes(StandardCharsets.UTF_8), username);
        byte[] key = LongTermKey.md5(username, REALM, password);
        StunMessage ok = h.send(CLIENT, Req.allocate().auth(username, REALM, h.nonce(CLIENT), key));
        assertThat(ok.errorCode()).isEqualTo(-1);
        assertThat(integrity.verifySha1(ok, key)).isTrue();

        h.advanceSeconds(61);
        StunMessage expired = h.send(CLIENT2, Req.allocate().auth(username, REALM, h.nonce(CLIENT2), key));
        assertThat(expired.errorCode()).isEqualTo(401);
    }

    @Test
    void aUsernameOfOnlyTheExpiryWorksToo() {
        String username = String.valueOf(h.epochSeconds + 3600);
        byte[] key = LongTermKey.md5(
                username, REALM, Credentials.restPassword("s3cret".getBytes(StandardCharsets.UTF_8), username));
        assertThat(h.send(CLIENT, Req.allocate().auth(username, REALM, h.nonce(CLIENT), key))
                        .errorCode())
                .isEqualTo(-1);
    }

    @Test
    void everyConfiguredSecretIsAcceptedSoSecretsCanRotate() {
        String username = (h.epochSeconds + 60) + ":dave";
        byte[] key = LongTermKey.md5(
                username, REALM, Credentials.restPassword("older-secret".getBytes(StandardCharsets.UTF_8), username));
        assertThat(h.send(CLIENT, Req.allocate().auth(username, REALM, h.nonce(CLIENT), key))
                        .errorCode())
                .isEqualTo(-1);
    }

    @Test
    void aPasswordMadeWithAnUnknownSecretIs401() {
        String username = (h.epochSeconds + 60) + ":eve";
        byte[] key = LongTermKey.md5(
                username, REALM, Credentials.restPassword("guessed".getBytes(StandardCharsets.UTF_8), username));
        assertThat(h.send(CLIENT, Req.allocate().auth(username, REALM, h.nonce(CLIENT), key))
                        .errorCode())
                .isEqualTo(401);
    }

    private Req withAlgorithms(Req request, int chosen) {
        return request.with(w -> w.addPasswordAlgorithms(LongTermKey.ALGORITHM_MD5, LongTermKey.ALGORITHM_SHA256))
                .with(w -> w.addU32(StunAttribute.PASSWORD_ALGORITHM, ((long) chosen) << 16));
    }

    @Test
    void messageIntegritySha256WithTheSha256KeyIsAnsweredInKind() {
        byte[] key = LongTermKey.sha256(USER, REALM, Harness.PASSWORD);
        StunMessage response = h.send(
                CLIENT,
                withAlgorithms(Req.allocate(), LongTermKey.ALGORITHM_SHA256)
                        .auth(USER, REALM, h.nonce(CLIENT), key)
                        .sha256());
        assertThat(response.errorCode()).isEqualTo(-1);
        assertThat(integrity.verifySha256(response, key)).isTrue();
        assertThat(response.has(StunAttribute.MESSAGE_INTEGRITY)).isFalse();
    }

    @Test
    void aUserHashStandsInForTheUsername() {
        byte[] key = LongTermKey.sha256(USER, REALM, Harness.PASSWORD);
        StunMessage response = h.send(
                CLIENT,
                withAlgorithms(Req.allocate(), LongTermKey.ALGORITHM_SHA256)
                        .userHash(LongTermKey.userHash(USER, REALM), REALM, h.nonce(CLIENT), key)
                        .sha256());
        assertThat(response.errorCode()).isEqualTo(-1);
    }

    @Test
    void passwordAlgorithmsThatDifferFromWhatWeOfferedAre400() {
        Req tampered = Req.allocate()
                .with(w -> w.addPasswordAlgorithms(LongTermKey.ALGORITHM_MD5))
                .with(w -> w.addU32(StunAttribute.PASSWORD_ALGORITHM, ((long) LongTermKey.ALGORITHM_MD5) << 16))
                .auth(USER, REALM, h.nonce(CLIENT), KEY);
        assertThat(h.send(CLIENT, tampered).errorCode()).isEqualTo(400);
    }

    @Test
    void aPasswordAlgorithmWithoutTheListIs400() {
        Req half = Req.allocate()
                .with(w -> w.addU32(StunAttribute.PASSWORD_ALGORITHM, ((long) LongTermKey.ALGORITHM_MD5) << 16))
                .auth(USER, REALM, h.nonce(CLIENT), KEY);
        assertThat(h.send(CLIENT, half).errorCode()).isEqualTo(400);
    }

    @Test
    void aClientOfAnotherUserCannotTouchTheAllocation() {
        h.allocate(CLIENT);
        byte[] bobKey = LongTermKey.md5("bob", REALM, "builder");
        StunMessage response = h.send(
                CLIENT,
                Req.request(dev.turnpike.core.stun.StunMethod.REFRESH).auth("bob", REALM, freshNonce(), bobKey));
        assertThat(response.errorCode()).isEqualTo(441);
    }

    private String freshNonce() {
        // a nonce for CLIENT without disturbing its allocation: an unsigned Refresh is challenged
        StunMessage challenge = h.send(CLIENT, Req.request(dev.turnpike.core.stun.StunMethod.REFRESH));
        return challenge.string(StunAttribute.NONCE);
    }
}
