package dev.turnpike.benchmarks.reports;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns {@code perf script} output (a {@code perf record -g} of the relay) into folded stacks and a flame graph
 * (SVG), so that {@code benchmarks/profile.sh} needs nothing beyond perf and the JDK. A frame's width is its
 * share of the samples, its children stand on it, siblings are sorted by name; kernel frames are orange, JIT
 * frames green, the rest red, as in Brendan Gregg's flame graphs.
 *
 * <pre>java -cp benchmarks.jar dev.turnpike.benchmarks.reports.FlameGraph [--title T] perf.script out.folded out.svg</pre>
 */
public final class FlameGraph {
    private static final int WIDTH = 1200;
    private static final int FRAME_HEIGHT = 16;
    private static final int TOP = 40;
    private static final double CHAR_WIDTH = 6.5;

    private FlameGraph() {}

    public static void main(String[] args) throws IOException {
        String title = "Flame graph";
        int at = 0;
        if (args.length > 1 && args[0].equals("--title")) {
            title = args[1];
            at = 2;
        }
        Map<String, Long> folded = fold(Files.readAllLines(Path.of(args[at])));
        StringBuilder text = new StringBuilder();
        folded.forEach(
                (stack, count) -> text.append(stack).append(' ').append(count).append('\n'));
        Files.writeString(Path.of(args[at + 1]), text);
        Files.writeString(Path.of(args[at + 2]), svg(title, folded));
    }

    /** perf script's samples, each a header line and then one frame a line (innermost first), as folded stacks. */
    static Map<String, Long> fold(List<String> lines) {
        Map<String, Long> folded = new TreeMap<>();
        List<String> frames = new ArrayList<>();
        String thread = null;
        for (String line : lines) {
            if (line.isBlank()) {
                if (thread != null) {
                    StringBuilder stack = new StringBuilder(thread);
                    for (int i = frames.size() - 1; i >= 0; i--) {
                        stack.append(';').append(frames.get(i));
                    }
                    folded.merge(stack.toString(), 1L, Long::sum);
                }
                thread = null;
                frames.clear();
            } else if (!Character.isWhitespace(line.charAt(0))) {
                // "java 1234/1250 [001] 123.456: 500000 cycles:" : the thread's name
                int end = line.indexOf(' ');
                thread = end < 0 ? line : line.substring(0, end);
            } else {
                frames.add(frame(line.strip()));
            }
        }
        return folded;
    }

    /** "ffffffff8101 __schedule+0x12 ([kernel.kallsyms])" as "__schedule_[k]"; JIT frames keep their name. */
    private static String frame(String line) {
        int space = line.indexOf(' ');
        String rest = space < 0 ? line : line.substring(space + 1);
        int module = rest.lastIndexOf(" (");
        String dso = module < 0 ? "" : rest.substring(module + 2, rest.length() - 1);
        String symbol = module < 0 ? rest : rest.substring(0, module);
        int offset = symbol.lastIndexOf("+0x");
        if (offset > 0) {
            symbol = symbol.substring(0, offset);
        }
        if (symbol.equals("[unknown]")) {
            symbol = "[" + Path.of(dso.isEmpty() ? "unknown" : dso).getFileName() + "]";
        }
        symbol = symbol.replace(';', ':').replace(' ', '_');
        if (dso.contains("kernel")) {
            return symbol + "_[k]";
        }
        if (dso.contains("perf-") && dso.endsWith(".map")) {
            return symbol + "_[j]";
        }
        return symbol;
    }

    private static final class Node {
        final Map<String, Node> children = new TreeMap<>();
        long count;
    }

    static String svg(String title, Map<String, Long> folded) {
        Node root = new Node();
        for (Map.Entry<String, Long> e : folded.entrySet()) {
            Node node = root;
            node.count += e.getValue();
            for (String frame : e.getKey().split(";")) {
                node = node.children.computeIfAbsent(frame, f -> new Node());
                node.count += e.getValue();
            }
        }
        int depth = depth(root);
        int height = TOP + (depth + 1) * FRAME_HEIGHT + 10;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(
                Locale.ROOT,
                "<?xml version=\"1.0\" standalone=\"no\"?>%n<svg version=\"1.1\" width=\"%d\" height=\"%d\""
                        + " xmlns=\"http://www.w3.org/2000/svg\" font-family=\"Verdana\" font-size=\"11\">%n"
                        + "<rect width=\"100%%\" height=\"100%%\" fill=\"#f8f8f8\"/>%n"
                        + "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">%s (%,d samples)</text>%n",
                WIDTH,
                height,
                WIDTH / 2,
                escape(title),
                root.count));
        double scale = (WIDTH - 20.0) / Math.max(1, root.count);
        draw(svg, "all", root, 10, height - 10 - FRAME_HEIGHT, scale, root.count);
        svg.append("</svg>\n");
        return svg.toString();
    }

    private static int depth(Node node) {
        int deepest = 0;
        for (Node child : node.children.values()) {
            deepest = Math.max(deepest, 1 + depth(child));
        }
        return deepest;
    }

    private static void draw(StringBuilder svg, String name, Node node, double x, int y, double scale, long total) {
        double width = node.count * scale;
        if (width < 0.3) {
            return;
        }
        svg.append(String.format(
                Locale.ROOT,
                "<g><title>%s (%,d samples, %.2f%%)</title><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\""
                        + " fill=\"%s\" rx=\"2\"/>",
                escape(name),
                node.count,
                100.0 * node.count / total,
                x,
                y,
                width,
                FRAME_HEIGHT - 1,
                colour(name)));
        int fits = (int) ((width - 6) / CHAR_WIDTH);
        if (fits >= 3) {
            String label = name.length() <= fits ? name : name.substring(0, fits - 2) + "..";
            svg.append(String.format(
                    Locale.ROOT, "<text x=\"%.1f\" y=\"%d\">%s</text>", x + 3, y + FRAME_HEIGHT - 4, escape(label)));
        }
        svg.append("</g>\n");
        double childX = x;
        for (Map.Entry<String, Node> child : node.children.entrySet()) {
            draw(svg, child.getKey(), child.getValue(), childX, y - FRAME_HEIGHT, scale, total);
            childX += child.getValue().count * scale;
        }
    }

    private static String colour(String name) {
        int shade = Math.floorMod(name.hashCode(), 55);
        if (name.endsWith("_[k]")) {
            return "rgb(" + (205 + shade) + "," + (120 + shade) + ",40)";
        }
        if (name.endsWith("_[j]")) {
            return "rgb(60," + (170 + shade) + ",60)";
        }
        return "rgb(" + (200 + shade) + "," + (70 + shade) + ",60)";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
