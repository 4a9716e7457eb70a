package dev.turnpike.benchmarks;

import dev.turnpike.core.auth.LongTermKey;
import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.MessageIntegrity;
import dev.turnpike.core.stun.StreamFraming;
import dev.turnpike.core.stun.StunAttribute;
import dev.turnpike.core.stun.StunMessage;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.core.stun.StunWriter;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A TURN client over TCP or TLS for the load generator: one blocking connection, long-term credentials, one
 * channel. TLS trusts any certificate: it measures relays on loopback with certificates made for the run, and
 * checks nothing about who they are.
 */
final class StreamTurnClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final StunWriter writer = new StunWriter(new MessageIntegrity());
    private final ByteBuffer scratch = ByteBuffer.allocate(2_048);
    private final String username;
    private final String password;
    private String realm;
    private String nonce;
    private byte[] key;
    private long tx = 1;
    private int channel;
    private InetSocketAddress relayed;

    StreamTurnClient(InetSocketAddress server, boolean tls, String username, String password) throws Exception {
        if (tls) {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new TrustManager[] {new TrustingManager()}, null);
            SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(server.getAddress(), server.getPort());
            s.startHandshake();
            socket = s;
        } else {
            socket = new Socket(server.getAddress(), server.getPort());
        }
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(10_000);
        in = new DataInputStream(socket.getInputStream());
        out = new BufferedOutputStream(socket.getOutputStream(), 8_192);
        this.username = username;
        this.password = password;
    }

    int channelNumber() {
        return channel;
    }

    /** The relayed address the Allocate got. */
    InetSocketAddress relayed() {
        return relayed;
    }

    /** Allocate (after the 401 for a nonce), then a channel to {@code peer}. */
    void setUp(InetSocketAddress peer, int number) throws IOException {
        StunMessage allocated =
                request(StunMethod.ALLOCATE, w -> w.addByteAndReserved(StunAttribute.REQUESTED_TRANSPORT, 17));
        relayed = allocated.xorAddress(allocated.indexOf(StunAttribute.XOR_RELAYED_ADDRESS));
        request(
                StunMethod.CHANNEL_BIND,
                w -> w.addU32(StunAttribute.CHANNEL_NUMBER, ((long) number) << 16)
                        .addXorAddress(StunAttribute.XOR_PEER_ADDRESS, peer));
        channel = number;
        socket.setSoTimeout(0); // from now on the reader waits as long as the run lasts
    }

    /** Lets the socket hold as little as the kernel allows: a client that reads nothing stalls sooner. */
    void shrinkReceiveBuffer() throws IOException {
        socket.setReceiveBufferSize(4_096);
    }

    private StunMessage request(int method, Consumer<StunWriter> attributes) throws IOException {
        for (int attempt = 0; attempt < 3; attempt++) {
            writer.begin(scratch.clear(), 0, StunMethod.messageType(method, StunMethod.CLASS_REQUEST), tx++, 0);
            attributes.accept(writer);
            if (nonce != null) {
                writer.addString(StunAttribute.USERNAME, username)
                        .addString(StunAttribute.REALM, realm)
                        .addString(StunAttribute.NONCE, nonce)
                        .addMessageIntegrity(key);
            }
            out.write(writer.toBytes());
            out.flush();
            StunMessage response = readStun();
            int code = response.errorCode();
            if (code == 401 || code == 438) {
                nonce = response.string(StunAttribute.NONCE);
                realm = response.string(StunAttribute.REALM);
                key = LongTermKey.md5(username, realm, password);
                continue;
            }
            if (code >= 0) {
                throw new IOException("error response " + code + " to method " + method);
            }
            return response;
        }
        throw new IOException("not authenticated after 3 attempts");
    }

    private StunMessage readStun() throws IOException {
        byte[] message = readFrame();
        StunMessage response = new StunMessage();
        if (response.wrap(ByteBuffer.wrap(message), 0, message.length) != DecodeStatus.OK) {
            throw new IOException("not a STUN response");
        }
        return response;
    }

    /** The next message on the stream, padding dropped; blocks. */
    byte[] readFrame() throws IOException {
        byte[] header = new byte[4];
        in.readFully(header);
        int frame = StreamFraming.frameLength(ByteBuffer.wrap(header), 0);
        if (frame < 0) {
            throw new IOException("unframeable bytes from the relay");
        }
        byte[] whole = new byte[frame];
        System.arraycopy(header, 0, whole, 0, 4);
        in.readFully(whole, 4, frame - 4);
        int length = StreamFraming.messageLength(ByteBuffer.wrap(whole), 0);
        return length == frame ? whole : java.util.Arrays.copyOf(whole, length);
    }

    /** ChannelData (header, payload and the padding streams need), written at once. */
    void send(ByteBuffer channelData) throws IOException {
        int length = channelData.remaining();
        out.write(channelData.array(), channelData.arrayOffset() + channelData.position(), length);
        for (int i = StreamFraming.channelDataPadding(length); i > 0; i--) {
            out.write(0);
        }
        out.flush();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static final class TrustingManager implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String type) {}

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String type) {}

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
