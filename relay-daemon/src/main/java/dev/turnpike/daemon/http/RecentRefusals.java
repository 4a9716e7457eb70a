package dev.turnpike.daemon.http;

import dev.turnpike.core.Command;
import dev.turnpike.core.stun.StunMethod;
import dev.turnpike.daemon.sys.Addresses;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * The last few requests the relay refused and why, for the status page: a client's first request (answered 401 to
 * give it a nonce, as expected) is left out. Bounded; any thread (the loops add, the page reads).
 */
public final class RecentRefusals {
    /** One refusal: when, to whom, which method, the code answered, and why. */
    public record Entry(Instant at, String client, String method, int code, String why) {}

    private final int capacity;
    private final ArrayDeque<Entry> entries = new ArrayDeque<>();

    public RecentRefusals(int capacity) {
        this.capacity = capacity;
    }

    /** What a loop carried out: a refused request is kept, anything else ignored. */
    public void heard(Command command) {
        if (command instanceof Command.SendToClient s && s.refusal() != null) {
            Command.Refusal r = s.refusal();
            if (r.code() == 401 && r.reason().startsWith("no MESSAGE-INTEGRITY")) {
                return; // every client's first request
            }
            add(new Entry(
                    Instant.now(), Addresses.format(s.client()), StunMethod.name(r.method()), r.code(), r.reason()));
        }
    }

    synchronized void add(Entry entry) {
        if (entries.size() == capacity) {
            entries.removeFirst();
        }
        entries.addLast(entry);
    }

    /** The refusals kept, the latest first. */
    public synchronized List<Entry> latestFirst() {
        List<Entry> all = new ArrayList<>(entries);
        java.util.Collections.reverse(all);
        return all;
    }
}
