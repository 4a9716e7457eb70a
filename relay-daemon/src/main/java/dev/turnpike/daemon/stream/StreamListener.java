package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.sys.Addresses;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/** A listening socket; TLS when it has a context (replaced on a certificate reload, for new connections). */
final class StreamListener {
    final ServerSocketChannel server;
    final int index;
    final boolean tls;
    /** Behind a load balancer that sends a PROXY v2 header first (--proxy-protocol). */
    final boolean proxied;

    volatile SSLContext context;

    StreamListener(ServerSocketChannel server, int index, SSLContext context, boolean proxied) {
        this.server = server;
        this.index = index;
        this.tls = context != null;
        this.context = context;
        this.proxied = proxied;
    }

    /**
     * Binds a listening socket for the core's listener {@code index}; TLS with {@code context}, else TCP;
     * {@code reusePort}: one listener a worker, all on the same address.
     */
    static StreamListener bind(
            InetSocketAddress address, int index, SSLContext context, boolean proxied, boolean reusePort)
            throws IOException {
        // of the address's own family: an IPv4 listener is an IPv4 socket, not an IPv6 one bound to a mapped address
        ServerSocketChannel server = ServerSocketChannel.open(
                address.getAddress() instanceof java.net.Inet4Address
                        ? java.net.StandardProtocolFamily.INET
                        : java.net.StandardProtocolFamily.INET6);
        try {
            server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            if (reusePort) {
                server.setOption(StandardSocketOptions.SO_REUSEPORT, true); // one listener a worker
            }
            server.bind(address, 1024);
            server.configureBlocking(false);
        } catch (IOException e) {
            server.close();
            throw new IOException(
                    "cannot listen on " + (context == null ? "TCP " : "TLS ") + Addresses.format(address) + ": "
                            + e.getMessage(),
                    e);
        }
        return new StreamListener(server, index, context, proxied);
    }

    /**
     * A TLS session for a connection just accepted, with the certificates of now, offering the web backend's ALPN
     * protocols {@code web} beside stun.turn; null on a TCP listener.
     */
    TlsSession newTlsSession(java.util.List<String> web) {
        if (!tls) {
            return null;
        }
        SSLEngine engine = context.createSSLEngine();
        engine.setEnabledProtocols(TlsCertificates.PROTOCOLS);
        Alpn.offer(engine, web);
        return new TlsSession(engine);
    }
}
