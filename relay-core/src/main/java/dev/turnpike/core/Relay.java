package dev.turnpike.core;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.ErrorCode;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The sans-IO relay: datagrams and time in, an {@link Outbox} of decisions out. No sockets, threads or
 * clock: the caller passes {@code nowNs} with every input. Not thread-safe; one thread owns it.
 */
public final class Relay {
    private final RelayConfig config;
    private final RelayCounters counters = new RelayCounters();
    private final StunMessage request = new StunMessage();
    private final MessageIntegrity integrity = new MessageIntegrity();
    private final StunWriter writer = new StunWriter(integrity);
    private final ByteBuffer responseBuffer = ByteBuffer.allocate(1500);
    private final int[] unknownAttributes = new int[16];

    public Relay(RelayConfig config) {
        this.config = config;
    }

    public RelayCounters counters() {
        return counters;
    }

    /** A datagram from {@code client} arrived on listening socket {@code listener}. */
    public void onClientDatagram(
            long nowNs, int listener, InetSocketAddress client, ByteBuffer buffer, int offset, int length, Outbox out) {
        DecodeStatus status = request.wrap(buffer, offset, length);
        if (status != DecodeStatus.OK) {
            counters.drop(RelayCounters.Drop.MALFORMED);
            return;
        }
        if (request.fingerprintIndex() >= 0 && !integrity.verifyFingerprint(request)) {
            counters.drop(RelayCounters.Drop.MALFORMED); // RFC 8489 §7.3: a bad FINGERPRINT is not STUN
            return;
        }
        if (request.messageClass() != StunMethod.CLASS_REQUEST) {
            if (request.messageClass() != StunMethod.CLASS_INDICATION) {
                counters.drop(RelayCounters.Drop.MALFORMED); // responses have no business arriving here
            }
            return; // Binding indications are keepalives: nothing to do
        }
        counters.stunRequests++;
        int unknown = request.unknownComprehensionRequired(unknownAttributes);
        if (unknown > 0) {
            // RFC 8489 §6.3.1.1
            respondError(listener, client, ErrorCode.UNKNOWN_ATTRIBUTE, unknown, out);
            return;
        }
        switch (request.method()) {
            case StunMethod.BINDING -> onBinding(listener, client, out);
            default -> respondError(listener, client, ErrorCode.BAD_REQUEST, 0, out);
        }
    }

    // RFC 8489 §7.3.1: the success response carries the request's source as XOR-MAPPED-ADDRESS.
    private void onBinding(int listener, InetSocketAddress client, Outbox out) {
        counters.bindingRequests++;
        begin(StunMethod.BINDING, StunMethod.CLASS_SUCCESS).addXorAddress(StunAttribute.XOR_MAPPED_ADDRESS, client);
        finish(listener, client, null, out);
    }

    private void respondError(int listener, InetSocketAddress client, ErrorCode error, int unknown, Outbox out) {
        counters.errorResponses++;
        begin(request.method(), StunMethod.CLASS_ERROR).addErrorCode(error.code, error.reason);
        if (unknown > 0) {
            writer.addUnknownAttributes(unknownAttributes, unknown);
        }
        finish(listener, client, null, out);
    }

    private StunWriter begin(int method, int messageClass) {
        return writer.begin(responseBuffer, 0, StunMethod.messageType(method, messageClass), request);
    }

    /** SOFTWARE, MESSAGE-INTEGRITY under {@code key} when authenticated, FINGERPRINT when the request had one. */
    private void finish(int listener, InetSocketAddress client, byte[] key, Outbox out) {
        if (config.software() != null) {
            writer.addString(StunAttribute.SOFTWARE, config.software());
        }
        if (key != null) {
            writer.addMessageIntegrity(key);
        }
        if (request.fingerprintIndex() >= 0) {
            writer.addFingerprint();
        }
        out.add(new Command.SendToClient(listener, client, writer.toBytes()));
    }
}
