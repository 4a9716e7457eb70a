package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.loop.LoopCounters;
import java.nio.channels.SocketChannel;

/** A TLS client connection passed to the web backend (--https-backend): the backend's socket beside it. */
final class WebPassage extends Passage {
    WebPassage(StreamConnection client, SocketChannel backend, long nowNs) {
        super(client, backend, nowNs);
    }

    @Override
    void moved(LoopCounters counters, boolean toOther, int bytes) {
        if (toOther) {
            counters.webBytesToBackend += bytes;
        } else {
            counters.webBytesFromBackend += bytes;
        }
    }

    @Override
    LoopCounters.StreamClose endedReason() {
        return LoopCounters.StreamClose.BACKEND_CLOSED;
    }
}
