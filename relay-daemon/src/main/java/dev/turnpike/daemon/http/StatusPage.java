package dev.turnpike.daemon.http;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.RelayCounters;
import dev.turnpike.daemon.loop.LoopSnapshot;
import dev.turnpike.daemon.sys.Addresses;
import dev.turnpike.daemon.usage.UsageReport;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * GET / on the admin listener: the relay at a glance for an operator without Grafana. Rendered here, one HTML
 * document with its style inline, no script and no other request (a phone on a slow link gets it whole); it asks
 * the browser to load it again every 10 s. Every string that came from a client (usernames, tags, reasons naming
 * peers) is escaped.
 */
final class StatusPage {
    private static final int ALLOCATIONS_SHOWN = 50;

    private StatusPage() {}

    /** What the page shows, gathered by the process on request. */
    record Status(
            String version,
            Duration uptime,
            int workers,
            List<String> listeners,
            boolean draining,
            LoopSnapshot snapshot,
            List<AllocationSummary> allocations,
            List<StatusHistory.Sample> history,
            List<UsageReport.Row> topTags,
            List<RecentRefusals.Entry> refusals,
            long nowNs) {}

    static String render(Status s) {
        StringBuilder b = new StringBuilder(16_384);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .append("<meta http-equiv=\"refresh\" content=\"10\">")
                .append("<title>Turnpike status</title><style>")
                .append("body{font-family:system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#222}")
                .append("h1{font-size:1.4rem;margin:0 0 .5rem}h2{font-size:1.1rem;margin:1.5rem 0 .5rem}")
                .append("table{border-collapse:collapse;width:100%;font-size:.9rem}")
                .append("th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #ddd}")
                .append("td.n,th.n{text-align:right}.wide{overflow-x:auto}.wide td,.wide th{white-space:nowrap}")
                .append(".badge{display:inline-block;padding:.1rem .5rem;border-radius:.5rem;font-size:.85rem}")
                .append(".ok{background:#d8f5d8}.warn{background:#ffe2b8}")
                .append(".facts{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}svg{max-width:100%;height:auto}")
                .append("</style></head><body>\n");
        b.append("<h1>Turnpike ")
                .append(escape(s.version()))
                .append(" <span class=\"badge ")
                .append(s.draining() ? "warn\">draining" : "ok\">serving")
                .append("</span></h1>\n<div class=\"facts\">")
                .append("<span>up ")
                .append(duration(s.uptime()))
                .append("</span><span>")
                .append(s.workers())
                .append(s.workers() == 1 ? " worker" : " workers")
                .append("</span><span>")
                .append(s.allocations().size())
                .append(" allocation(s)</span>");
        rates(b, s);
        b.append("</div>\n<h2>Listening</h2><ul>");
        for (String listener : s.listeners()) {
            b.append("<li>").append(escape(listener)).append("</li>");
        }
        b.append("</ul>\n<h2>Allocations, the last hour</h2>");
        chart(b, s.history(), s.nowNs());
        allocations(b, s.allocations());
        drops(b, s.snapshot());
        tags(b, s.topTags());
        refusals(b, s.refusals());
        return b.append("</body></html>\n").toString();
    }

    /** Relayed bits a second each way: since the last sample at least a second old. */
    private static void rates(StringBuilder b, Status s) {
        LoopSnapshot now = s.snapshot();
        StatusHistory.Sample then = null;
        for (StatusHistory.Sample sample : s.history()) {
            if (now != null && now.takenAtNs() - sample.atNs() >= 1_000_000_000L) {
                then = sample;
            }
        }
        if (now == null || then == null) {
            b.append("<span>relayed: measuring</span>");
            return;
        }
        double seconds = (now.takenAtNs() - then.atNs()) / 1e9;
        b.append("<span>to peers ")
                .append(bits((now.relay().bytesClientToPeer() - then.bytesClientToPeer()) * 8 / seconds))
                .append("</span><span>to clients ")
                .append(bits((now.relay().bytesPeerToClient() - then.bytesPeerToClient()) * 8 / seconds))
                .append("</span>");
    }

    /** The allocations live over the last hour, as an SVG line: time across, count up. */
    private static void chart(StringBuilder b, List<StatusHistory.Sample> history, long nowNs) {
        if (history.size() < 2) {
            b.append("<p>The chart fills as the hour goes (a sample every 10 s).</p>");
            return;
        }
        long max = Math.max(
                1,
                history.stream()
                        .mapToLong(StatusHistory.Sample::allocations)
                        .max()
                        .orElse(1));
        double hourNs = 3_600e9;
        StringBuilder points = new StringBuilder();
        for (StatusHistory.Sample sample : history) {
            double x = 600 - Math.min(hourNs, nowNs - sample.atNs()) / hourNs * 600;
            double y = 110 - sample.allocations() * 100.0 / max;
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        b.append("<svg viewBox=\"0 0 600 120\" width=\"600\" height=\"120\" role=\"img\" aria-label=\"allocations\">")
                .append("<line x1=\"0\" y1=\"110\" x2=\"600\" y2=\"110\" stroke=\"#bbb\"/>")
                .append("<text x=\"2\" y=\"12\" font-size=\"11\">")
                .append(max)
                .append("</text><text x=\"2\" y=\"108\" font-size=\"11\">0</text>")
                .append("<text x=\"560\" y=\"120\" font-size=\"11\">now</text>")
                .append("<polyline fill=\"none\" stroke=\"#2a6\" stroke-width=\"2\" points=\"")
                .append(points.toString().strip())
                .append("\"/></svg>");
    }

    private static void allocations(StringBuilder b, List<AllocationSummary> all) {
        b.append("<h2>Live allocations</h2>");
        if (all.isEmpty()) {
            b.append("<p>None.</p>");
            return;
        }
        b.append("<div class=\"wide\"><table><tr><th>id</th><th>user</th><th>client</th><th>relayed</th>")
                .append("<th class=\"n\">age</th><th class=\"n\">to peers</th><th class=\"n\">to client</th></tr>");
        for (AllocationSummary a : all.subList(0, Math.min(all.size(), ALLOCATIONS_SHOWN))) {
            b.append("<tr><td>")
                    .append(a.id())
                    .append("</td><td>")
                    .append(escape(a.user()))
                    .append("</td><td>")
                    .append(escape(Addresses.format(a.client())))
                    .append("</td><td>")
                    .append(escape(relayed(a)))
                    .append("</td><td class=\"n\">")
                    .append(duration(Duration.ofSeconds(a.ageSeconds())))
                    .append("</td><td class=\"n\">")
                    .append(AllocationsJson.bytes(a.bytesToPeers()))
                    .append("</td><td class=\"n\">")
                    .append(AllocationsJson.bytes(a.bytesToClient()))
                    .append("</td></tr>");
        }
        b.append("</table></div>");
        if (all.size() > ALLOCATIONS_SHOWN) {
            b.append("<p>and ").append(all.size() - ALLOCATIONS_SHOWN).append(" more (GET /allocations).</p>");
        }
    }

    private static String relayed(AllocationSummary a) {
        if (a.relayedIpv4() != null && a.relayedIpv6() != null) {
            return Addresses.format(a.relayedIpv4()) + " " + Addresses.format(a.relayedIpv6());
        }
        return a.relayedIpv4() != null ? Addresses.format(a.relayedIpv4()) : Addresses.format(a.relayedIpv6());
    }

    private static void drops(StringBuilder b, LoopSnapshot s) {
        b.append("<h2>Datagrams dropped</h2>");
        if (s == null) {
            b.append("<p>Starting.</p>");
            return;
        }
        b.append("<table><tr><th>reason</th><th class=\"n\">since start</th></tr>");
        for (RelayCounters.Drop reason : RelayCounters.Drop.values()) {
            row(b, reason.name().toLowerCase(Locale.ROOT), s.relay().dropped(reason));
        }
        row(b, "send_error", s.loop().sendErrors);
        row(b, "shed", s.loop().droppedShed);
        b.append("</table>");
    }

    private static void row(StringBuilder b, String name, long count) {
        b.append("<tr><td>")
                .append(name)
                .append("</td><td class=\"n\">")
                .append(count)
                .append("</td></tr>");
    }

    private static void tags(StringBuilder b, List<UsageReport.Row> tags) {
        b.append("<h2>Top tags</h2>");
        if (tags.isEmpty()) {
            b.append("<p>No usage yet.</p>");
            return;
        }
        b.append("<table><tr><th>tag</th><th class=\"n\">allocations</th><th class=\"n\">bytes</th></tr>");
        for (UsageReport.Row r : tags) {
            b.append("<tr><td>")
                    .append(r.other() ? "<i>other</i>" : escape(r.key()))
                    .append("</td><td class=\"n\">")
                    .append(r.usage().allocations())
                    .append("</td><td class=\"n\">")
                    .append(AllocationsJson.bytes(r.usage().bytes()))
                    .append("</td></tr>");
        }
        b.append("</table>");
    }

    private static void refusals(StringBuilder b, List<RecentRefusals.Entry> refusals) {
        b.append("<h2>Last refusals</h2>");
        if (refusals.isEmpty()) {
            b.append("<p>None since start.</p>");
            return;
        }
        b.append("<div class=\"wide\"><table><tr><th>when</th><th>client</th><th>request</th>")
                .append("<th class=\"n\">code</th><th>why</th></tr>");
        for (RecentRefusals.Entry r : refusals) {
            b.append("<tr><td>")
                    .append(r.at().toString(), 11, 19)
                    .append("</td><td>")
                    .append(escape(r.client()))
                    .append("</td><td>")
                    .append(escape(r.method()))
                    .append("</td><td class=\"n\">")
                    .append(r.code())
                    .append("</td><td>")
                    .append(escape(r.why()))
                    .append("</td></tr>");
        }
        b.append("</table></div>");
    }

    static String escape(String text) {
        StringBuilder b = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c < 0x20 ? ' ' : c);
            }
        }
        return b.toString();
    }

    private static String duration(Duration d) {
        long s = d.getSeconds();
        return s < 120 ? s + " s" : s < 7200 ? s / 60 + " min" : s < 172_800 ? s / 3600 + " h" : s / 86_400 + " d";
    }

    private static String bits(double perSecond) {
        return perSecond < 1e3
                ? String.format(Locale.ROOT, "%.0f bit/s", perSecond)
                : perSecond < 1e6
                        ? String.format(Locale.ROOT, "%.1f kbit/s", perSecond / 1e3)
                        : String.format(Locale.ROOT, "%.1f Mbit/s", perSecond / 1e6);
    }
}
