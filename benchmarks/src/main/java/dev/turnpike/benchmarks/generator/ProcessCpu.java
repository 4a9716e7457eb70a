package dev.turnpike.benchmarks.generator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time (user + system) a process has used, from /proc/PID/stat, in nanoseconds. */
final class ProcessCpu {
    private static final long CLOCK_TICKS_PER_SECOND = clockTicks();

    private ProcessCpu() {}

    static long cpuNs(long pid) throws IOException {
        long[] split = userAndSystemNs(pid);
        return split[0] + split[1];
    }

    /** User and system CPU time apart: what the relay's own code costs, and what the kernel does for it. */
    static long[] userAndSystemNs(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // the command name (field 2) is in parentheses and may contain spaces: split after the last ')'
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long utime = Long.parseLong(fields[11]); // field 14 of the whole line
        long stime = Long.parseLong(fields[12]); // field 15
        return new long[] {
            utime * 1_000_000_000L / CLOCK_TICKS_PER_SECOND, stime * 1_000_000_000L / CLOCK_TICKS_PER_SECOND
        };
    }

    private static long clockTicks() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK")
                    .redirectErrorStream(true)
                    .start();
            String out = new String(getconf.getInputStream().readAllBytes()).strip();
            getconf.waitFor();
            return Long.parseLong(out);
        } catch (IOException | NumberFormatException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
