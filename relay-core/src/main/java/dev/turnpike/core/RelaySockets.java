package dev.turnpike.core;

/**
 * The one question the core must ask the outside world synchronously: can this relay port be had? The
 * Allocate response names the port, so the answer must come before the response is written. Closing needs no
 * answer and is a {@link Command.CloseRelay}.
 */
public interface RelaySockets {
    /** Binds a socket to {@code endpoint.local()}; false if the port is taken (the core then tries another). */
    boolean open(RelayEndpoint endpoint);

    /**
     * The socket opened for {@code held} (a reserved port, RFC 8656 RESERVATION-TOKEN) now serves {@code endpoint},
     * which has the same address, with {@code endpoint.dontFragment()} applied; false if that cannot be done.
     */
    boolean adopt(RelayEndpoint held, RelayEndpoint endpoint);

    /** Whether relay sockets can set the IP DF bit (RFC 8656 DONT-FRAGMENT); if not, the attribute earns 420. */
    boolean supportsDontFragment();
}
