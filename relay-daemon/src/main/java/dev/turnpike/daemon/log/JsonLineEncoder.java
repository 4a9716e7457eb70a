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
        string(line, Instant.ofEpochMilli(event.getTimeStamp()).toString());
        line.append(",\"level\":");
        string(line, event.getLevel().toString());
        line.append(",\"logger\":");
        string(line, event.getLoggerName());
        line.append(",\"thread\":");
        string(line, event.getThreadName());
        line.append(",\"message\":");
        string(line, event.getFormattedMessage());
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                line.append(',');
                string(line, pair.key);
                line.append(':');
                if (pair.value instanceof Number || pair.value instanceof Boolean) {
                    line.append(pair.value);
                } else {
                    string(line, String.valueOf(pair.value));
                }
            }
        }
        IThrowableProxy error = event.getThrowableProxy();
        if (error != null) {
            line.append(",\"error\":");
            string(line, error.getClassName() + ": " + error.getMessage());
        }
        line.append('}');
    }

    static void string(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
