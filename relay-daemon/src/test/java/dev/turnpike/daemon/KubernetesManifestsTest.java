package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.turnpike.daemon.cli.RelayOptions;
import java.io.StringReader;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * deploy/kubernetes renders with kustomize ({@code kubectl kustomize}), and each overlay keeps the invariants an
 * operator relies on: the shape of the workload (hostNetwork for public TURN, a UDP load balancer for the
 * gateway), the TURN ports, probes on /readyz and /healthz, a grace period longer than the drain, no secret in a
 * ConfigMap, a locked-down container, and a configuration Turnpike's own parser accepts.
 */
class KubernetesManifestsTest {
    private static final Path OVERLAYS = Path.of("..", "deploy", "kubernetes", "overlays");
    private static final String ADDRESS = "10.0.0.7";
    /** Options whose value is itself a secret: never in a ConfigMap or a literal environment variable. */
    private static final List<String> SECRET_VALUES = List.of("user", "auth-secret", "admin-token");
    /** Options that name a file holding a secret: that file comes from the mounted Secret. */
    private static final List<String> SECRET_FILES =
            List.of("users-file", "auth-secret-file", "admin-token-file", "tls-key");

    @TempDir
    Path dir;

    @Test
    void thePublicTurnOverlayIsADaemonSetOnTheNodesNetworkThatDrainsBeforeItsSuccessorBinds() throws Exception {
        List<Map<String, Object>> objects = render("public-turn");
        Map<String, Object> daemonSet = only(objects, "DaemonSet");
        Map<String, Object> pod = map(map(map(daemonSet, "spec"), "template"), "spec");
        assertThat(pod.get("hostNetwork")).isEqualTo(true);
        assertThat(pod.get("dnsPolicy")).isEqualTo("ClusterFirstWithHostNet");
        Map<String, Object> update = map(map(daemonSet, "spec"), "updateStrategy");
        assertThat(map(update, "rollingUpdate").get("maxSurge"))
                .as("two relays cannot bind one node's ports")
                .isEqualTo(0);
        Map<String, Object> container = onlyContainer(pod);
        assertThat(ports(container)).contains("3478/UDP host 3478", "3478/TCP host 3478");
        assertThat(objects).noneMatch(o -> "Service".equals(o.get("kind")));

        RelayOptions options = commonInvariants(objects, pod, container);
        assertThat(options.listen).containsExactly(new InetSocketAddress(ADDRESS, 3478));
        assertThat(options.readyWhileDraining)
                .as("clients reach the node directly: readiness may say 'draining'")
                .isFalse();
    }

    @Test
    void theGatewayOverlayIsADeploymentBehindAUdpLoadBalancerThatKeepsLiveCallsWhileDraining() throws Exception {
        List<Map<String, Object>> objects = render("gateway");
        Map<String, Object> deployment = only(objects, "Deployment");
        Map<String, Object> template = map(map(deployment, "spec"), "template");
        Map<String, Object> pod = map(template, "spec");
        assertThat(pod.get("hostNetwork")).isNotEqualTo(true);
        Map<String, Object> container = onlyContainer(pod);
        assertThat(ports(container)).contains("3478/UDP", "3478/TCP");

        Map<String, Object> service = only(objects, "Service");
        Map<String, Object> spec = map(service, "spec");
        assertThat(spec.get("type")).isEqualTo("LoadBalancer");
        assertThat(spec.get("externalTrafficPolicy"))
                .as("the relay sees the client's own address")
                .isEqualTo("Local");
        assertThat(map(template, "metadata").get("labels")).isInstanceOf(Map.class);
        assertThat(map(map(template, "metadata"), "labels")).containsAllEntriesOf(map(spec, "selector"));
        List<String> servicePorts = new ArrayList<>();
        for (Map<String, Object> port : list(spec, "ports")) {
            servicePorts.add(port.get("port") + "/" + port.get("protocol") + " -> " + port.get("targetPort"));
        }
        assertThat(servicePorts).contains("3478/UDP -> 3478", "3478/TCP -> 3478");

        RelayOptions options = commonInvariants(objects, pod, container);
        assertThat(options.listen).containsExactly(new InetSocketAddress(ADDRESS, 3478));
        assertThat(options.readyWhileDraining)
                .as("an unready pod behind kube-proxy loses its UDP conntrack entries: live calls")
                .isTrue();
    }

    /** What both overlays must keep; answers the configuration as Turnpike parses it. */
    private RelayOptions commonInvariants(
            List<Map<String, Object>> objects, Map<String, Object> pod, Map<String, Object> container)
            throws Exception {
        assertThat(objects)
                .as("the secret is the operator's to create, never shipped")
                .noneMatch(o -> "Secret".equals(o.get("kind")));

        // the configuration: one file in one ConfigMap, with no secret in it
        Map<String, Object> configMap = only(objects, "ConfigMap");
        Map<String, Object> data = map(configMap, "data");
        assertThat(data).containsOnlyKeys("turnpike.properties");
        Properties config = new Properties();
        config.load(new StringReader((String) data.get("turnpike.properties")));
        assertThat(config.stringPropertyNames())
                .as("a secret's value in a ConfigMap")
                .doesNotContainAnyElementsOf(SECRET_VALUES);
        for (String key : SECRET_FILES) {
            if (config.containsKey(key)) {
                assertThat(config.getProperty(key)).as(key).startsWith("/etc/turnpike/secret/");
            }
        }

        // the Secret and the ConfigMap mounted read-only where the configuration looks for them
        Map<String, String> mounts = new HashMap<>();
        for (Map<String, Object> mount : list(container, "volumeMounts")) {
            assertThat(mount.get("readOnly") == Boolean.TRUE || "/tmp".equals(mount.get("mountPath")))
                    .as("read-only: " + mount)
                    .isTrue();
            mounts.put((String) mount.get("name"), (String) mount.get("mountPath"));
        }
        Map<String, String> sources = new HashMap<>();
        for (Map<String, Object> volume : list(pod, "volumes")) {
            if (volume.get("secret") instanceof Map<?, ?> secret) {
                sources.put("secret:" + secret.get("secretName"), mounts.get((String) volume.get("name")));
            } else if (volume.get("configMap") instanceof Map<?, ?> reference) {
                assertThat(reference.get("name"))
                        .isEqualTo(map(configMap, "metadata").get("name"));
                sources.put("configMap", mounts.get((String) volume.get("name")));
            }
        }
        assertThat(sources).containsEntry("secret:turnpike-secret", "/etc/turnpike/secret");
        List<Object> args = new ArrayList<>((List<?>) container.get("args"));
        assertThat(args).containsExactly("--config", sources.get("configMap") + "/turnpike.properties");

        // a locked-down container
        assertThat(map(pod, "securityContext").get("runAsNonRoot")).isEqualTo(true);
        assertThat(pod.get("automountServiceAccountToken")).isEqualTo(false);
        Map<String, Object> security = map(container, "securityContext");
        assertThat(security.get("allowPrivilegeEscalation")).isEqualTo(false);
        assertThat(security.get("readOnlyRootFilesystem")).isEqualTo(true);
        assertThat(map(security, "capabilities").get("drop")).isEqualTo(List.of("ALL"));

        // Turnpike's own parser accepts what the pod would run: the file, the environment and the arguments
        Path file = dir.resolve("turnpike.properties");
        Files.writeString(file, (String) data.get("turnpike.properties"));
        Map<String, String> env = new HashMap<>();
        for (Map<String, Object> variable : list(container, "env")) {
            assertThat(SECRET_VALUES)
                    .as("a secret in the pod spec: " + variable.get("name"))
                    .noneMatch(option -> ("TURNPIKE_"
                                    + option.toUpperCase(java.util.Locale.ROOT).replace('-', '_'))
                            .equals(variable.get("name")));
            String value = variable.get("value") instanceof String s ? s : ADDRESS; // from the downward API
            env.put((String) variable.get("name"), value.replaceAll("\\$\\((NODE|POD)_IP\\)", ADDRESS));
        }
        String[] command = {"--config", file.toString()};
        assertThatCode(() -> Turnpike.parse(command, env)).doesNotThrowAnyException();
        RelayOptions options = Turnpike.parse(command, env).options();

        // probes on the metrics listener, and a grace period the drain fits in
        assertThat(options.metricsListen).isEqualTo(new InetSocketAddress(ADDRESS, 9641));
        assertThat(map(map(container, "readinessProbe"), "httpGet"))
                .containsEntry("path", "/readyz")
                .containsEntry("port", 9641);
        assertThat(map(map(container, "livenessProbe"), "httpGet"))
                .containsEntry("path", "/healthz")
                .containsEntry("port", 9641);
        assertThat(((Number) pod.get("terminationGracePeriodSeconds")).longValue())
                .as("SIGTERM drains for --drain-timeout before the kubelet kills")
                .isGreaterThan(options.drainTimeout);
        assertThat(options.relayPorts).isNotBlank();
        return options;
    }

    private static List<Map<String, Object>> render(String overlay) throws Exception {
        Path kubectl = Interop.tool("kubectl", "kubernetes-client");
        Interop.Result rendered = Interop.run(
                60, kubectl.toString(), "kustomize", OVERLAYS.resolve(overlay).toString());
        assertThat(rendered.exitCode()).as(rendered.output()).isZero();
        // kustomize may warn on stderr (Interop.run merges it): keep the documents, from the first one on
        String yaml = rendered.output().substring(Math.max(0, rendered.output().indexOf("apiVersion:")));
        List<Map<String, Object>> objects = new ArrayList<>();
        for (Object document : new Load(LoadSettings.builder().build()).loadAllFromString(yaml)) {
            if (document != null) {
                objects.add(cast(document));
            }
        }
        return objects;
    }

    private static Map<String, Object> only(List<Map<String, Object>> objects, String kind) {
        List<Map<String, Object>> found =
                objects.stream().filter(o -> kind.equals(o.get("kind"))).toList();
        assertThat(found).as("one " + kind).hasSize(1);
        return found.get(0);
    }

    private static Map<String, Object> onlyContainer(Map<String, Object> pod) {
        List<Map<String, Object>> containers = list(pod, "containers");
        assertThat(containers).hasSize(1);
        return containers.get(0);
    }

    private static List<String> ports(Map<String, Object> container) {
        List<String> ports = new ArrayList<>();
        for (Map<String, Object> port : list(container, "ports")) {
            ports.add(port.get("containerPort") + "/" + port.get("protocol")
                    + (port.get("hostPort") == null ? "" : " host " + port.get("hostPort")));
        }
        return ports;
    }

    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(Map.class);
        return cast(value);
    }

    private static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
        Object value = parent.get(key);
        assertThat(value).as(key).isInstanceOf(List.class);
        List<Map<String, Object>> items = new ArrayList<>();
        for (Object item : (List<?>) value) {
            items.add(cast(item));
        }
        return items;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object value) {
        return (Map<String, Object>) value;
    }
}
