package dev.turnpike.daemon.client;

import dev.turnpike.core.stun.StreamFraming;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * One TCP or TLS connection (RFC 8656 §3.1): messages are cut out of the byte stream by their own length
 * ({@link StreamFraming}), and ChannelData is padded to a multiple of 4 on the way out. Blocking, with each read
 * bounded by its timeout.
 */
final class StreamWire implements Wire {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final byte[] header = new byte[4];

    private StreamWire(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        // buffered: a read takes what has arrived, not 4 bytes then the rest of one message (two syscalls a
        // message, which made the load generator's stream clients cost more than the relay they measure)
        this.in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 65_536));
        this.out = new BufferedOutputStream(socket.getOutputStream(), 8_192);
    }

    /** A TCP connection to {@code server}, made within {@code timeoutMs}. */
    static StreamWire tcp(InetSocketAddress server, long timeoutMs) throws IOException {
        return tcp(server, timeoutMs, 0);
    }

    /** The same, marked with {@code tos} from the SYN on (IP_TOS set before connecting). */
    static StreamWire tcp(InetSocketAddress server, long timeoutMs, int tos) throws IOException {
        Socket socket = new Socket();
        try {
            if (tos != 0) {
                socket.setTrafficClass(tos);
            }
            socket.connect(server, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
            return new StreamWire(socket);
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /**
     * A TLS connection to {@code server}, handshaken within {@code timeoutMs}, offering ALPN {@code stun.turn}
     * (RFC 7443) and naming {@code hostName} by SNI when it is a name. With {@code verify}, the certificate must
     * chain to the JDK's trusted roots and name {@code hostName}; without, any certificate is taken (a relay's
     * self-signed one on loopback, in a test).
     */
    static StreamWire tls(InetSocketAddress server, String hostName, boolean verify, long timeoutMs)
            throws IOException {
        return tls(server, hostName, verify, timeoutMs, 0);
    }

    /** The same, marked with {@code tos} from the SYN on (IP_TOS set before connecting). */
    static StreamWire tls(InetSocketAddress server, String hostName, boolean verify, long timeoutMs, int tos)
            throws IOException {
        SSLContext context;
        try {
            context = verify ? SSLContext.getDefault() : TrustAnyCertificate.context();
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("no TLS here: " + e.getMessage(), e);
        }
        String name = hostName != null ? hostName : server.getHostString();
        Socket plain = new Socket();
        try {
            if (tos != 0) {
                plain.setTrafficClass(tos);
            }
            plain.connect(server, (int) Math.min(Integer.MAX_VALUE, timeoutMs));
            SSLSocket tls = (SSLSocket) context.getSocketFactory().createSocket(plain, name, server.getPort(), true);
            SSLParameters parameters = tls.getSSLParameters();
            parameters.setApplicationProtocols(new String[] {"stun.turn"});
            if (!Character.isDigit(name.charAt(0)) && !name.contains(":")) {
                parameters.setServerNames(java.util.List.of(new SNIHostName(name)));
            }
            if (verify) {
                parameters.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
            }
            tls.setSSLParameters(parameters);
            tls.setSoTimeout((int) Math.min(Integer.MAX_VALUE, timeoutMs));
            tls.startHandshake();
            return new StreamWire(tls);
        } catch (IOException e) {
            plain.close();
            throw e;
        }
    }

    @Override
    public void send(ByteBuffer message) throws IOException {
        int length = message.remaining();
        boolean channelData = length > 0 && (message.get(message.position()) & 0xC0) == 0x40;
        if (message.hasArray()) {
            out.write(message.array(), message.arrayOffset() + message.position(), length); // no copy: a load generator
            message.position(message.limit());
        } else {
            byte[] bytes = new byte[length];
            message.get(bytes);
            out.write(bytes);
        }
        if (channelData) {
            for (int i = StreamFraming.channelDataPadding(length); i > 0; i--) {
                out.write(0);
            }
        }
        out.flush();
    }

    @Override
    public void trafficClass(int tos) throws IOException {
        socket.setTrafficClass(tos);
    }

    @Override
    public void receiveBuffer(int bytes) throws IOException {
        socket.setReceiveBufferSize(bytes);
    }

    @Override
    public ByteBuffer receive(ByteBuffer into, long timeoutMs) throws IOException {
        socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeoutMs)));
        try {
            in.readFully(header);
        } catch (SocketTimeoutException e) {
            return null;
        } catch (EOFException e) {
            throw new EOFException("the relay closed the connection");
        }
        int frame = StreamFraming.frameLength(ByteBuffer.wrap(header), 0);
        if (frame == StreamFraming.MALFORMED || frame > into.capacity()) {
            throw new IOException("bytes from the relay that frame no TURN message");
        }
        byte[] whole = new byte[frame];
        System.arraycopy(header, 0, whole, 0, 4);
        in.readFully(whole, 4, frame - 4); // a timeout mid-message leaves the stream unusable: it throws
        int length = StreamFraming.messageLength(ByteBuffer.wrap(whole), 0);
        return into.clear().put(whole, 0, length).flip();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
