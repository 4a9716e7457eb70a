package dev.turnpike.core;

import java.net.InetSocketAddress;

/**
 * A control-plane effect the core asks the event loop to carry out. Sealed, so that the loop's exhaustive
 * {@code switch} stops compiling when a new effect is added and not yet handled.
 */
public sealed interface Command {

    /**
     * Send {@code bytes} to {@code client} from listening socket {@code listener}. For an error response,
     * {@code refusal} says what was refused and why, in words for the operator's DEBUG log (the client sees only
     * the code); null otherwise.
     */
    record SendToClient(int listener, InetSocketAddress client, byte[] bytes, Refusal refusal) implements Command {}

    /** A request refused: its method, the error code answered, and why. */
    record Refusal(int method, int code, String reason) {}

    /** The relay socket is no longer used: deregister and close it; its port returns to the pool. */
    record CloseRelay(RelayEndpoint relay) implements Command {}
}
