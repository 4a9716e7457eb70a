package dev.turnpike.daemon.loop;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The loop's logger: the lines its parts write (allocations, refusals, the drain, internal errors) come under the
 * one name operators know them by, the event loop's, whichever part writes them.
 */
final class LoopLog {
    static final Logger LOG = LoggerFactory.getLogger(LoopLog.class.getPackageName() + ".EventLoop");

    private LoopLog() {}
}
