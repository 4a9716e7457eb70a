package dev.turnpike.daemon.http;

import dev.turnpike.daemon.usage.UsageReport;
import java.util.List;

/**
 * What the status page shows that the process, not the endpoints, knows: its workers and listeners, the last
 * hour's samples, the top tags and the last refusals.
 */
public record StatusFacts(
        int workers,
        List<String> listeners,
        List<StatusHistory.Sample> history,
        List<UsageReport.Row> topTags,
        List<RecentRefusals.Entry> refusals) {}
