package dev.turnpike.core;

import static dev.turnpike.core.Harness.CLIENT;
import static dev.turnpike.core.Harness.PEER;
import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.StunMethod;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every error answered to a client says, for the operator's log, what was refused and why. */
class RefusalTest {
    private final Harness h = new Harness();

    private Command.SendToClient answer(List<Command> commands) {
        List<Command.SendToClient> answers = commands.stream()
                .filter(Command.SendToClient.class::isInstance)
                .map(Command.SendToClient.class::cast)
                .toList();
        assertThat(answers).hasSize(1);
        return answers.get(0);
    }

    @Test
    void aChallengeSaysItIsTheClientsFirstRequest() {
        Command.Refusal refusal =
                answer(h.fromClient(CLIENT, Req.allocate().bytes())).refusal();
        assertThat(refusal.method()).isEqualTo(StunMethod.ALLOCATE);
        assertThat(refusal.code()).isEqualTo(401);
        assertThat(refusal.reason()).contains("no MESSAGE-INTEGRITY");
    }

    @Test
    void aLegacyChannelNumberSaysWhichFlagWouldAcceptIt() {
        h.allocate(CLIENT);
        Command.Refusal refusal = answer(h.fromClient(
                        CLIENT,
                        h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CHANNEL_BIND)
                                                .channel(0x5000)
                                                .peer(PEER))
                                .bytes()))
                .refusal();
        assertThat(refusal.method()).isEqualTo(StunMethod.CHANNEL_BIND);
        assertThat(refusal.code()).isEqualTo(400);
        assertThat(refusal.reason()).contains("0x5000", "--rfc5766-channel-numbers");
    }

    @Test
    void aWrongPasswordAndADeniedPeerSayWhy() {
        byte[] wrong = dev.turnpike.core.auth.LongTermKey.md5(Harness.USER, Harness.REALM, "guess");
        Command.Refusal badPassword = answer(h.fromClient(
                        CLIENT,
                        Req.allocate()
                                .auth(Harness.USER, Harness.REALM, h.nonce(CLIENT), wrong)
                                .bytes()))
                .refusal();
        assertThat(badPassword.code()).isEqualTo(401);
        assertThat(badPassword.reason()).contains("wrong password");
        RelayCounters counters = h.relay.counters();
        assertThat(counters.authFailures(RelayCounters.AuthFailure.NO_INTEGRITY))
                .as("the first request")
                .isEqualTo(1);
        assertThat(counters.authFailures(RelayCounters.AuthFailure.BAD_CREDENTIALS))
                .isEqualTo(1);
        assertThat(h.fromClient(
                        CLIENT,
                        Req.allocate()
                                .auth(Harness.USER, Harness.REALM, "forged", wrong)
                                .bytes()))
                .hasSize(1);
        assertThat(counters.authFailures(RelayCounters.AuthFailure.INVALID_NONCE))
                .isEqualTo(1);

        h.allocate(CLIENT);
        Command.Refusal denied = answer(h.fromClient(
                        CLIENT,
                        h.signed(
                                        CLIENT,
                                        Req.request(StunMethod.CREATE_PERMISSION)
                                                .peer(new java.net.InetSocketAddress("10.0.0.1", 1)))
                                .bytes()))
                .refusal();
        assertThat(denied.code()).isEqualTo(403);
        assertThat(denied.reason()).contains("10.0.0.1");
    }

    @Test
    void aSuccessIsNoRefusal() {
        h.allocate(CLIENT);
        assertThat(answer(h.fromClient(
                                CLIENT,
                                h.signed(
                                                CLIENT,
                                                Req.request(StunMethod.CREATE_PERMISSION)
                                                        .peer(PEER))
                                        .bytes()))
                        .refusal())
                .isNull();
    }
}
