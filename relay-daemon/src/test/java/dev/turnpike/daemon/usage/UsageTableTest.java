package dev.turnpike.daemon.usage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.turnpike.core.AllocationSummary;
import dev.turnpike.core.Command;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Usage by tag and by name: counted at each allocation's end, live ones added, bounded with an "other" row. */
class UsageTableTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("198.51.100.7", 40000);

    private static Command.AllocationEvent ended(String user, Command.AllocationEvent.Kind kind, long bytes) {
        return new Command.AllocationEvent(kind, user, CLIENT, null, null, 0, 60, 3, bytes / 2, 2, bytes - bytes / 2);
    }

    private static UsageReport.Row row(List<UsageReport.Row> rows, String key) {
        return rows.stream().filter(r -> r.key().equals(key)).findFirst().orElseThrow();
    }

    @Test
    void anAllocationCountsByItsTagAndItsNameWhenItEndsHoweverItEnds() {
        UsageTable table = new UsageTable(10);
        table.record(ended("1800000000:carol:acme", Command.AllocationEvent.Kind.CREATED, 0));
        table.record(ended("1800000000:carol:acme", Command.AllocationEvent.Kind.DELETED, 1000));
        table.record(ended("1800000100:carol:acme", Command.AllocationEvent.Kind.EXPIRED, 500));
        table.record(ended("1800000000:dave", Command.AllocationEvent.Kind.REVOKED, 10));
        table.record(ended("alice", Command.AllocationEvent.Kind.CLOSED, 20));
        table.record(ended("alice", Command.AllocationEvent.Kind.ENDED, 20));

        UsageReport report = table.report(List.of());
        assertThat(row(report.tags(), "acme").usage()).isEqualTo(new Usage(2, 120, 10, 1500));
        assertThat(row(report.tags(), Usage.UNTAGGED).usage()).isEqualTo(new Usage(3, 180, 15, 50));
        assertThat(row(report.names(), "carol").usage().bytes()).isEqualTo(1500);
        assertThat(row(report.names(), "dave").usage().bytes()).isEqualTo(10);
        assertThat(row(report.names(), "alice").usage().allocations()).isEqualTo(2);
        assertThat(report.tags().get(0).key()).as("most bytes first").isEqualTo("acme");
    }

    @Test
    void liveAllocationsCountAsTheyStand() {
        UsageTable table = new UsageTable(10);
        table.record(ended("1800000000:carol:acme", Command.AllocationEvent.Kind.DELETED, 1000));
        AllocationSummary live =
                new AllocationSummary(4, "1800000000:erin:globex", CLIENT, null, null, 30, 570, 1, 1, 5, 400, 6, 600);
        UsageReport report = table.report(List.of(live));
        assertThat(row(report.tags(), "globex").usage()).isEqualTo(new Usage(1, 30, 11, 1000));
        assertThat(row(report.names(), "erin").usage().bytes()).isEqualTo(1000);
        assertThat(table.report(List.of()).tags())
                .as("not kept: it counts when it ends")
                .hasSize(1);
    }

    @Test
    void theTableHoldsAtMostTopRowsAndTheRestSumsExactlyInOther() {
        int top = 5;
        UsageTable table = new UsageTable(top);
        SplittableRandom random = new SplittableRandom(19);
        long total = 0;
        for (int i = 0; i < 2_000; i++) {
            long bytes = random.nextLong(1, 10_000);
            total += bytes;
            table.record(ended(
                    "1800000000:u" + random.nextInt(300) + ":t" + random.nextInt(50),
                    Command.AllocationEvent.Kind.DELETED,
                    bytes));
        }
        table.record(ended("1800000000:whale:big", Command.AllocationEvent.Kind.DELETED, 10_000_000));
        total += 10_000_000;
        UsageReport report = table.report(List.of());
        for (List<UsageReport.Row> rows : List.of(report.tags(), report.names())) {
            assertThat(rows.stream().filter(r -> !r.other())).hasSizeLessThanOrEqualTo(top);
            assertThat(rows.get(rows.size() - 1).other()).isTrue();
            assertThat(rows.stream().mapToLong(r -> r.usage().bytes()).sum())
                    .as("nothing lost")
                    .isEqualTo(total);
            assertThat(rows.stream().mapToLong(r -> r.usage().allocations()).sum())
                    .isEqualTo(2_001);
        }
        assertThat(report.tags().get(0).key()).isEqualTo("big");
        assertThat(report.names().get(0).key()).isEqualTo("whale");
    }

    @Test
    void withNoRowsEverythingIsOther() {
        UsageTable table = new UsageTable(0);
        table.record(ended("alice", Command.AllocationEvent.Kind.DELETED, 7));
        assertThat(table.report(List.of()).names()).singleElement().satisfies(r -> {
            assertThat(r.other()).isTrue();
            assertThat(r.usage().bytes()).isEqualTo(7);
        });
    }

    @Test
    void jsonAndCsvSayTheSameAndACsvFieldCannotBreakOutOrBecomeAFormula() {
        UsageTable table = new UsageTable(1);
        table.record(ended("1800000000:carol:a,b", Command.AllocationEvent.Kind.DELETED, 100));
        table.record(ended("1800000000:=cmd\"x:t", Command.AllocationEvent.Kind.DELETED, 200));
        UsageReport report = table.report(List.of());
        assertThat(report.json())
                .startsWith("{\"since\":\"")
                .contains("{\"tag\":\"t\",\"allocations\":1,\"allocationSeconds\":60,\"packets\":5,\"bytes\":200}")
                .contains(
                        "{\"tag\":null,\"other\":true,\"allocations\":1,\"allocationSeconds\":60,\"packets\":5,\"bytes\":100}")
                .contains("{\"name\":\"=cmd\\\"x\"");
        assertThat(report.csv())
                .startsWith("kind,key,other,allocations,allocation_seconds,packets,bytes\n")
                .contains(
                        "tag,t,false,1,60,5,200\n", "tag,,true,1,60,5,100\n", "name,\"'=cmd\"\"x\",false,1,60,5,200\n");
        assertThat(new UsageTable(3).report(List.of()).json()).endsWith("\"tags\":[],\"names\":[]}\n");
    }
}
