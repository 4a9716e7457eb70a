package dev.turnpike.daemon.dtls;

import javax.net.ssl.SSLContext;

/**
 * What the DTLS listeners serve: {@code context}, a DTLS context with the TLS listeners' certificate (replaced on a
 * reload, for new sessions), and how long a session may be silent before it ends ({@code idleTimeoutNs}:
 * --max-lifetime, past which no allocation lives without a Refresh, itself a datagram), and the receive buffer its
 * sockets ask for (--receive-buffer, 0: the kernel's default), where a burst of handshakes waits.
 */
public record DtlsSettings(SSLContext context, long idleTimeoutNs, int receiveBuffer) {}
