package dev.turnpike.daemon.stream;

import dev.turnpike.daemon.loop.LoopCounters;

/** How a part of the stream transport ends a client connection: the transport closes it, the reason counted. */
interface StreamCloser {
    void close(StreamConnection c, LoopCounters.StreamClose reason);
}
