package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.stun.DecodeStatus;
import dev.turnpike.core.stun.StunMessage;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** STUN over a TCP or TLS stream, as test clients read it. */
final class StunStreams {
    private StunStreams() {}

    /** The next STUN message on {@code stream}: its 20-byte header, then as many bytes as the header says. */
    static StunMessage read(InputStream stream) throws IOException {
        DataInputStream in = stream instanceof DataInputStream d ? d : new DataInputStream(stream);
        byte[] header = new byte[20];
        in.readFully(header);
        int length = ((header[2] & 0xFF) << 8) | (header[3] & 0xFF);
        byte[] whole = new byte[20 + length];
        System.arraycopy(header, 0, whole, 0, 20);
        in.readFully(whole, 20, length);
        StunMessage message = new StunMessage();
        assertThat(message.wrap(ByteBuffer.wrap(whole), 0, whole.length)).isEqualTo(DecodeStatus.OK);
        return message;
    }
}
