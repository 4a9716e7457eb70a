package dev.turnpike.daemon.stream;

import java.nio.channels.Selector;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Client connections passed between the workers of a process: a ConnectionBind (RFC 6062) reaches whichever worker
 * the kernel hashed the new connection to, and the peer connection it names is another's. The connection, with the
 * request still in its read buffer, goes into that worker's inbox, and its loop is woken to take it. Shared by the
 * workers; the only part of the stream transport that other threads touch.
 */
public final class HandOff {
    private final java.util.List<ConcurrentLinkedQueue<StreamConnection>> inboxes;
    private final Selector[] selectors;

    public HandOff(int workers) {
        inboxes = new java.util.ArrayList<>(workers);
        selectors = new Selector[workers];
        for (int i = 0; i < workers; i++) {
            inboxes.add(new ConcurrentLinkedQueue<>());
        }
    }

    /** Worker {@code worker}'s loop waits on {@code selector}; called as each is made. */
    void register(int worker, Selector selector) {
        selectors[worker] = selector;
    }

    /** Whether {@code worker} can take connections: false for one with no stream transport, or out of range. */
    boolean reaches(int worker) {
        return worker >= 0 && worker < selectors.length && selectors[worker] != null;
    }

    void send(int worker, StreamConnection c) {
        inboxes.get(worker).add(c);
        selectors[worker].wakeup();
    }

    /** The next connection passed to {@code worker}, or null. */
    StreamConnection take(int worker) {
        return inboxes.get(worker).poll();
    }
}
