package dev.turnpike.daemon.usage;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Usernames;
import dev.turnpike.daemon.log.JsonText;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Usage as GET /usage serves it, in JSON or CSV: since when, and by tag and by name, most bytes first, with the
 * "other" row where the table let keys go. Live allocations count as they stand (one allocation each, their age as
 * its seconds); they count again, in full, when they end.
 */
public record UsageReport(Instant since, List<Row> tags, List<Row> names) {
    /** One key's figures; {@code other}: the row of the keys the table let go of. */
    public record Row(String key, boolean other, Usage usage) {}

    static UsageReport of(
            Instant since, HeavyHitters.Snapshot tags, HeavyHitters.Snapshot names, List<AllocationSummary> live) {
        Map<String, Usage> liveTags = new LinkedHashMap<>();
        Map<String, Usage> liveNames = new LinkedHashMap<>();
        for (AllocationSummary a : live) {
            Usage usage = new Usage(
                    1, a.ageSeconds(), a.packetsToPeers() + a.packetsToClient(), a.bytesToPeers() + a.bytesToClient());
            liveTags.merge(Usage.tagOf(a.user()), usage, Usage::plus);
            liveNames.merge(Usernames.account(a.user()), usage, Usage::plus);
        }
        return new UsageReport(since, rows(tags, liveTags), rows(names, liveNames));
    }

    /** The table's rows with the live figures added: a live key not in the table counts under its own name. */
    private static List<Row> rows(HeavyHitters.Snapshot table, Map<String, Usage> live) {
        Map<String, Usage> merged = new LinkedHashMap<>();
        table.rows().forEach(e -> merged.put(e.getKey(), e.getValue()));
        live.forEach((key, usage) -> merged.merge(key, usage, Usage::plus));
        List<Row> rows = new ArrayList<>();
        merged.forEach((key, usage) -> rows.add(new Row(key, false, usage)));
        rows.sort(Comparator.comparingLong((Row r) -> r.usage().bytes())
                .reversed()
                .thenComparing(Row::key));
        if (table.other() != null) {
            rows.add(new Row("other", true, table.other()));
        }
        return List.copyOf(rows);
    }

    public String json() {
        StringBuilder b = new StringBuilder("{\"since\":\"").append(since).append("\",\"tags\":");
        json(b, "tag", tags);
        b.append(",\"names\":");
        json(b, "name", names);
        return b.append("}\n").toString();
    }

    private static void json(StringBuilder b, String field, List<Row> rows) {
        b.append('[');
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            b.append(i == 0 ? "\n" : ",\n").append("{\"").append(field).append("\":");
            if (r.other()) {
                b.append("null,\"other\":true");
            } else {
                JsonText.string(b, r.key());
            }
            Usage u = r.usage();
            b.append(",\"allocations\":")
                    .append(u.allocations())
                    .append(",\"allocationSeconds\":")
                    .append(u.allocationSeconds())
                    .append(",\"packets\":")
                    .append(u.packets())
                    .append(",\"bytes\":")
                    .append(u.bytes())
                    .append('}');
        }
        b.append(rows.isEmpty() ? "]" : "\n]");
    }

    /** One row a key: kind (tag or name), key ("other" row: key empty, other true), and the figures. */
    public String csv() {
        StringBuilder b = new StringBuilder("kind,key,other,allocations,allocation_seconds,packets,bytes\n");
        csv(b, "tag", tags);
        csv(b, "name", names);
        return b.toString();
    }

    private static void csv(StringBuilder b, String kind, List<Row> rows) {
        for (Row r : rows) {
            Usage u = r.usage();
            b.append(kind)
                    .append(',')
                    .append(r.other() ? "" : csvField(r.key()))
                    .append(',')
                    .append(r.other())
                    .append(',')
                    .append(u.allocations())
                    .append(',')
                    .append(u.allocationSeconds())
                    .append(',')
                    .append(u.packets())
                    .append(',')
                    .append(u.bytes())
                    .append('\n');
        }
    }

    /** RFC 4180: quoted when it holds a comma, a quote or a line break, quotes doubled; and never a formula. */
    private static String csvField(String value) {
        String v = !value.isEmpty() && "=+-@".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
        return v.contains(",") || v.contains("\"") || v.contains("\n") || v.contains("\r")
                ? "\"" + v.replace("\"", "\"\"") + "\""
                : v;
    }
}
