package dev.turnpike.daemon.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.encoder.EncoderBase;
import java.nio.charset.StandardCharsets;

/** One log event, one line, no header or footer: the shape both log formats share. */
abstract class LineEncoder extends EncoderBase<ILoggingEvent> {
    @Override
    public final byte[] headerBytes() {
        return null;
    }

    @Override
    public final byte[] footerBytes() {
        return null;
    }

    @Override
    public final byte[] encode(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(256);
        format(event, line);
        return line.append('\n').toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Appends the event, without the line end. */
    abstract void format(ILoggingEvent event, StringBuilder line);
}
