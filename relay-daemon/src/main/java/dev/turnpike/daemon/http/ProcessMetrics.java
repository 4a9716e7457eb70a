package dev.turnpike.daemon.http;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;

/**
 * The process and the JVM in {@code /metrics}: which build runs, since when, its descriptors, heap, collections
 * and threads, read from the JDK's management beans at scrape time on the HTTP thread: they are not the loop's
 * state, and reading them takes nothing from it.
 */
final class ProcessMetrics {
    private static final double START_SECONDS =
            ManagementFactory.getRuntimeMXBean().getStartTime() / 1e3;

    private ProcessMetrics() {}

    static void render(StringBuilder b) {
        // the build as a label on a constant 1 (Prometheus' *_build_info idiom), to join on or alert on a mixed fleet
        PrometheusText.header(
                b, "turnpike_build_info", "gauge", "The running build: version and Java runtime, value 1.");
        b.append("turnpike_build_info{version=\"")
                .append(BuildInfo.VERSION)
                .append("\",java=\"")
                .append(Runtime.version().feature())
                .append("\"} 1\n");
        PrometheusText.single(
                b, "process_start_time_seconds", "gauge", "When the process started, in Unix seconds.", START_SECONDS);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            PrometheusText.single(
                    b, "process_open_fds", "gauge", "Open file descriptors.", unix.getOpenFileDescriptorCount());
            PrometheusText.single(
                    b,
                    "process_max_fds",
                    "gauge",
                    "The limit on open file descriptors.",
                    unix.getMaxFileDescriptorCount());
        }
        MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        PrometheusText.single(b, "jvm_heap_used_bytes", "gauge", "Heap in use.", heap.getUsed());
        PrometheusText.single(b, "jvm_heap_committed_bytes", "gauge", "Heap the JVM holds.", heap.getCommitted());
        long collections = 0;
        long collectionMs = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            collections += Math.max(0, gc.getCollectionCount());
            collectionMs += Math.max(0, gc.getCollectionTime());
        }
        PrometheusText.single(
                b, "jvm_gc_collections_total", "counter", "Garbage collections, all collectors.", collections);
        PrometheusText.single(
                b, "jvm_gc_seconds_total", "counter", "Time spent collecting, all collectors.", collectionMs / 1e3);
        PrometheusText.single(
                b,
                "jvm_threads",
                "gauge",
                "Live threads.",
                ManagementFactory.getThreadMXBean().getThreadCount());
    }
}
