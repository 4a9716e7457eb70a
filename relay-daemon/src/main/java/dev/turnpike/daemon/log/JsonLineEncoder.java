package dev.turnpike.daemon.log;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import java.time.Instant;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object a line: time, level, logger, thread, message, then the event's key-value pairs as
 * fields, so that log shippers index them without parsing prose.
 */
public final class JsonLineEncoder extends LineEncoder {
    @Override
    void format(ILoggingEvent event, StringBuilder line) {
        line.append("{\"time\":");
        JsonText.string(line, Instant.ofEpochMilli(event.getTimeStamp()).toString());
        line.append(",\"level\":");
        JsonText.string(line, event.getLevel().toString());
        line.append(",\"logger\":");
        JsonText.string(line, event.getLoggerName());
        line.append(",\"thread\":");
        JsonText.string(line, event.getThreadName());
        line.append(",\"message\":");
        JsonText.string(line, event.getFormattedMessage());
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                line.append(',');
                JsonText.string(line, pair.key);
                line.append(':');
                if (pair.value instanceof Number || pair.value instanceof Boolean) {
                    line.append(pair.value);
                } else {
                    JsonText.string(line, String.valueOf(pair.value));
                }
            }
        }
        IThrowableProxy error = event.getThrowableProxy();
        if (error != null) {
            line.append(",\"error\":");
            JsonText.string(line, error.getClassName() + ": " + error.getMessage());
        }
        line.append('}');
    }
}
