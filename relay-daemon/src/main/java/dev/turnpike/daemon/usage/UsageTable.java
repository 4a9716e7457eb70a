package dev.turnpike.daemon.usage;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Command;
import dev.turnpike.core.Usernames;
import java.time.Instant;
import java.util.List;

/**
 * Usage by tag (the {@code :tag} of {@code EXPIRY:name:tag} credentials, minted with {@code turnpike credentials
 * --tag}) and by name (a static user, or the name of time-limited credentials), since the process started: each
 * allocation's figures added when it ends, and the live ones' as they stand when asked. Bounded: the top {@code
 * --usage-top} keys by bytes of each, and an "other" row ({@link HeavyHitters}); nothing of it reaches /metrics,
 * whose labels stay a fixed set. Any thread: the loops add, the admin endpoint reads.
 */
public final class UsageTable {
    private final HeavyHitters byTag;
    private final HeavyHitters byName;
    private final Instant since = Instant.now();

    public UsageTable(int top) {
        this.byTag = new HeavyHitters(top);
        this.byName = new HeavyHitters(top);
    }

    /** An allocation's event: its figures count once it has ended, however it ended. */
    public void record(Command.AllocationEvent event) {
        switch (event.kind()) {
            case CREATED, REFRESHED -> {}
            case DELETED, EXPIRED, CLOSED, ENDED, REVOKED ->
                add(
                        event.user(),
                        new Usage(
                                1,
                                event.ageSeconds(),
                                event.packetsToPeers() + event.packetsToClient(),
                                event.bytesToPeers() + event.bytesToClient()));
        }
    }

    private synchronized void add(String username, Usage usage) {
        byTag.add(Usage.tagOf(username), usage);
        byName.add(Usernames.account(username), usage);
    }

    /** The usage so far: the ended allocations' and {@code live}'s, as they stand. */
    public UsageReport report(List<AllocationSummary> live) {
        HeavyHitters.Snapshot tags;
        HeavyHitters.Snapshot names;
        synchronized (this) {
            tags = byTag.copy();
            names = byName.copy();
        }
        return UsageReport.of(since, tags, names, live);
    }
}
