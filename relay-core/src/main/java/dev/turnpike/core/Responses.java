package dev.turnpike.core;

import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * Writes the responses to one request at a time: the request's method and transaction, SOFTWARE if
 * configured, MESSAGE-INTEGRITY or -SHA256 (as the request used) once it has authenticated, FINGERPRINT when the
 * request had one (RFC 8489 §6.3, §9.2.4, §14.7).
 */
final class Responses {
    private final StunWriter writer;
    private String software;
    private final RelayCounters counters;
    private final ByteBuffer buffer = ByteBuffer.allocate(2048);
    private StunMessage request;
    private byte[] key;
    private boolean sha256;
    /** What the response being written refuses, and why, or null. */
    private Command.Refusal refusal;

    Responses(MessageIntegrity integrity, String software, RelayCounters counters) {
        this.writer = new StunWriter(integrity);
        this.software = software;
        this.counters = counters;
    }

    /** Answers {@code message} from now on, unsigned until {@link #sign}. */
    void answer(StunMessage message) {
        this.request = message;
        this.key = null;
    }

    /** A reload: the SOFTWARE attribute from now on (null: none). */
    void software(String software) {
        this.software = software;
    }

    /** Signs the answers with the key the request authenticated with, by the HMAC it used. */
    void sign(byte[] responseKey, boolean withSha256) {
        this.key = responseKey;
        this.sha256 = withSha256;
    }

    /** Starts a response of {@code messageClass}; add attributes, then {@link #finish}. */
    StunWriter begin(int messageClass) {
        refusal = null;
        return writer.begin(buffer, 0, StunMethod.messageType(request.method(), messageClass), request);
    }

    /** Closes the response, queues it to {@code client} and answers its bytes. */
    byte[] finish(int listener, InetSocketAddress client, Outbox out) {
        byte[] bytes = build();
        out.add(new Command.SendToClient(listener, client, bytes, refusal));
        return bytes;
    }

    /** Closes the response and answers its bytes, sent later (an answer that waits on the loop: RFC 6062 Connect). */
    byte[] build() {
        if (software != null) {
            writer.addString(StunAttribute.SOFTWARE, software);
        }
        if (key != null) {
            if (sha256) {
                writer.addMessageIntegritySha256(key);
            } else {
                writer.addMessageIntegrity(key);
            }
        }
        if (request.fingerprintIndex() >= 0) {
            writer.addFingerprint();
        }
        return writer.toBytes();
    }

    void success(int listener, InetSocketAddress client, Outbox out) {
        begin(StunMethod.CLASS_SUCCESS);
        finish(listener, client, out);
    }

    /** An error response; {@code why} is for the operator's DEBUG log, not for the client. */
    void error(int listener, InetSocketAddress client, ErrorCode error, String why, Outbox out) {
        error(listener, client, error, error.reason, why, out);
    }

    /**
     * An error response whose reason phrase the client is meant to read ({@code reasonPhrase}: what a person
     * checking the relay needs, never a detail of policy); {@code why} is for the DEBUG log.
     */
    void error(int listener, InetSocketAddress client, ErrorCode error, String reasonPhrase, String why, Outbox out) {
        counters.errorResponses++;
        begin(StunMethod.CLASS_ERROR).addErrorCode(error.code, reasonPhrase);
        refusing(error, why);
        finish(listener, client, out);
    }

    /** 300 Try Alternate naming {@code alternate} in ALTERNATE-SERVER (RFC 8489 §10). */
    void tryAlternate(int listener, InetSocketAddress client, InetSocketAddress alternate, String why, Outbox out) {
        counters.errorResponses++;
        ErrorCode error = ErrorCode.TRY_ALTERNATE;
        begin(StunMethod.CLASS_ERROR)
                .addErrorCode(error.code, error.reason)
                .addPlainAddress(StunAttribute.ALTERNATE_SERVER, alternate);
        refusing(error, why);
        finish(listener, client, out);
    }

    /** Marks the response begun as a refusal, for the operator's DEBUG log (a challenge, written by its owner). */
    void refusing(ErrorCode error, String why) {
        refusal = new Command.Refusal(request.method(), error.code, why);
    }

    /** 420 with UNKNOWN-ATTRIBUTES listing the first {@code count} of {@code types} (RFC 8489 §14.9). */
    void unknownAttributes(int listener, InetSocketAddress client, int[] types, int count, String why, Outbox out) {
        counters.errorResponses++;
        ErrorCode error = ErrorCode.UNKNOWN_ATTRIBUTE;
        begin(StunMethod.CLASS_ERROR).addErrorCode(error.code, error.reason).addUnknownAttributes(types, count);
        refusing(error, why);
        finish(listener, client, out);
    }

    /** The one place a handler's refusal is written, with the DEBUG line that says why (through the outbox). */
    void refuse(Transaction t, Refused refused) {
        if (refused.alternateServer() != null) {
            tryAlternate(t.listener, t.client, refused.alternateServer(), refused.why(), t.out);
        } else if (refused.unknownAttributes() != null) {
            int[] types = refused.unknownAttributes();
            unknownAttributes(t.listener, t.client, types, types.length, refused.why(), t.out);
        } else {
            error(t.listener, t.client, refused.code(), refused.reasonPhrase(), refused.why(), t.out);
        }
    }
}
