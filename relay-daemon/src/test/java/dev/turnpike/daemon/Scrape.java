package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The packaged daemon's --metrics-listen endpoint, as a test reads it. */
final class Scrape {
    private static final Pattern METRICS_URL = Pattern.compile("metrics=(http://127\\.0\\.0\\.1:\\d+)/metrics");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Scrape() {}

    /** http://127.0.0.1:PORT, as the daemon logged it (start it with --metrics-listen 127.0.0.1:0). */
    static String base(DaemonProcess daemon) throws IOException {
        Matcher url = METRICS_URL.matcher(daemon.output());
        assertThat(url.find()).as(daemon.output()).isTrue();
        return url.group(1);
    }

    static HttpResponse<String> http(String base, String method, String path) throws Exception {
        return HTTP.send(
                HttpRequest.newBuilder(URI.create(base + path))
                        .method(method, HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The scrape once it contains {@code sample} (at most 15 s): the loop publishes about once a second. */
    static String await(String base, String sample) throws Exception {
        String metrics = "";
        long deadline = System.nanoTime() + 15_000_000_000L;
        while (System.nanoTime() < deadline && !metrics.contains(sample)) {
            metrics = http(base, "GET", "/metrics").body();
            Thread.sleep(100); // polling a scrape; the condition above is what we wait on
        }
        assertThat(metrics).contains(sample);
        return metrics;
    }
}
