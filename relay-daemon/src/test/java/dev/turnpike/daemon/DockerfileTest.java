package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Dockerfile, read as text, in every test run; the image itself is built and run with podman by {@code
 * packaging/container/test.sh}, which CI runs after the tests (it makes its own base images, which takes minutes).
 */
class DockerfileTest {
    private static final Path ROOT = Path.of("..");

    @Test
    void theImageRunsAsNonRootHoldsOnlyTheRuntimeAndTheJarAndChecksItsHealth() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("Dockerfile"), StandardCharsets.UTF_8);
        int runtimeStage = lines.size() - 1;
        while (!lines.get(runtimeStage).startsWith("FROM ")) {
            runtimeStage--;
        }
        List<String> runtime = lines.subList(runtimeStage, lines.size());
        assertThat(runtime).anyMatch(l -> l.startsWith("USER ") && !l.equals("USER root") && !l.equals("USER 0"));
        assertThat(runtime).anyMatch(l -> l.startsWith("HEALTHCHECK "));
        assertThat(runtime.stream().filter(l -> l.startsWith("COPY ")))
                .as("only the runtime, the jar and its launcher")
                .allMatch(l -> l.matches("COPY --from=build /src/relay-daemon/target/turnpike/(runtime|lib|bin) .*"));
        assertThat(runtime.get(0)).doesNotContain("jdk").doesNotContain("jre");
        int userLine = runtime.indexOf(
                runtime.stream().filter(l -> l.startsWith("USER ")).findFirst().orElseThrow());
        int entrypoint = runtime.indexOf(runtime.stream()
                .filter(l -> l.startsWith("ENTRYPOINT "))
                .findFirst()
                .orElseThrow());
        assertThat(userLine).isLessThan(entrypoint);
    }

    @Test
    void dependenciesAreFetchedBeforeTheSourcesAreCopiedIn() throws Exception {
        List<String> lines = Files.readAllLines(ROOT.resolve("Dockerfile"), StandardCharsets.UTF_8);
        int goOffline = indexOf(lines, "dependency:go-offline");
        int sources = lines.indexOf("COPY . .");
        assertThat(goOffline).isNotNegative().isLessThan(sources);
        assertThat(lines.subList(0, goOffline))
                .as("only build files before the dependency layer")
                .noneMatch(l -> l.startsWith("COPY ") && l.contains("src"));
    }

    @Test
    void theBuildContextLeavesOutHistoryAndNodeModules() throws Exception {
        List<String> ignored = Files.readAllLines(ROOT.resolve(".dockerignore"), StandardCharsets.UTF_8);
        assertThat(ignored).contains(".git/", "**/node_modules/", "**/target/");
    }

    private static int indexOf(List<String> lines, String text) {
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                return i;
            }
        }
        return -1;
    }
}
