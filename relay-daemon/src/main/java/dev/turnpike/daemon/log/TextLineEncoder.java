package dev.turnpike.daemon.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import java.time.Instant;
import org.slf4j.event.KeyValuePair;

/** {@code time LEVEL logger message key=value ...}: the same fields as the JSON lines, for a terminal. */
public final class TextLineEncoder extends LineEncoder {
    @Override
    void format(ILoggingEvent event, StringBuilder line) {
        String logger = event.getLoggerName();
        line.append(Instant.ofEpochMilli(event.getTimeStamp()))
                .append(' ')
                .append(String.format("%-5s", event.getLevel()))
                .append(' ')
                .append(logger.substring(logger.lastIndexOf('.') + 1))
                .append(' ')
                .append(event.getFormattedMessage());
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                line.append(' ').append(pair.key).append('=').append(pair.value);
            }
        }
        IThrowableProxy error = event.getThrowableProxy();
        if (error != null) {
            line.append(" error=\"")
                    .append(error.getClassName())
                    .append(": ")
                    .append(error.getMessage())
                    .append('"');
        }
    }
}
