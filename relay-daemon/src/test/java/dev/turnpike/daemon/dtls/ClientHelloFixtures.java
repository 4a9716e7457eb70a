package dev.turnpike.daemon.dtls;

/** ClientHellos built by hand for tests outside this package. */
public final class ClientHelloFixtures {
    private ClientHelloFixtures() {}

    /** A DTLS 1.2 ClientHello carrying {@code cookie}, record sequence number {@code sequence}. */
    public static byte[] withCookie(byte[] cookie, long sequence) {
        return ClientHelloTest.clientHello(0xFEFD, cookie, 1, sequence);
    }
}
