package dev.turnpike.daemon;

import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Debian's nginx as the web site behind a shared TLS port, run by the test as a child process (one process, no
 * daemon, everything under the test's directory): HTTP/1.1 on one port and HTTP/2 with prior knowledge on
 * another, both expecting a PROXY v2 header, and an access log naming the client that header gave. {@code PUT}
 * under {@code /uploads/} stores a file of up to 16 MiB there (WebDAV), to be compared with what was sent.
 */
final class WebServer implements AutoCloseable {
    final int http1Port;
    final int h2Port;
    final Path root;
    private final Path accessLog;
    private final Background process;

    private WebServer(int http1Port, int h2Port, Path root, Path accessLog, Background process) {
        this.http1Port = http1Port;
        this.h2Port = h2Port;
        this.root = root;
        this.accessLog = accessLog;
        this.process = process;
    }

    /** Starts nginx serving {@code dir}/html and waits (at most 10 s) until both ports accept. */
    static WebServer start(Path dir) throws Exception {
        Path nginx = nginx();
        Path root = Files.createDirectories(dir.resolve("html"));
        Path temp = Files.createDirectories(dir.resolve("nginx-temp"));
        Path accessLog = dir.resolve("access.log");
        int http1 = Interop.testPort("127.0.0.1");
        int h2 = Interop.testPort("127.0.0.1");
        String config = String.join(
                "\n",
                "daemon off;",
                "master_process off;",
                "worker_processes 1;",
                "pid " + dir.resolve("nginx.pid") + ";",
                "error_log " + dir.resolve("error.log") + " info;",
                "events { worker_connections 256; }",
                "http {",
                "  log_format client '$proxy_protocol_addr:$proxy_protocol_port $remote_addr $server_protocol "
                        + "$request_method $status $body_bytes_sent';",
                "  access_log " + accessLog + " client;",
                "  client_body_temp_path " + temp + ";",
                "  proxy_temp_path " + temp + ";",
                "  fastcgi_temp_path " + temp + ";",
                "  uwsgi_temp_path " + temp + ";",
                "  scgi_temp_path " + temp + ";",
                "  server {",
                "    listen 127.0.0.1:" + http1 + " proxy_protocol;",
                "    listen 127.0.0.1:" + h2 + " proxy_protocol http2;",
                "    root " + root + ";",
                "    location /uploads/ { client_max_body_size 16m; dav_methods PUT; create_full_put_path on; }",
                "  }",
                "}",
                "");
        Path file = dir.resolve("nginx.conf");
        Files.writeString(file, config);
        Background process = Background.start(
                nginx.toString(),
                "-c",
                file.toString(),
                "-e",
                dir.resolve("error.log").toString());
        WebServer server = new WebServer(http1, h2, root, accessLog, process);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!(accepts(http1) && accepts(h2))) {
            if (System.nanoTime() > deadline || !process.alive()) {
                String output = process.output();
                server.close();
                fail("nginx did not start:\n" + output);
            }
            Thread.sleep(50);
        }
        return server;
    }

    private static Path nginx() {
        // /usr/sbin is not on every PATH a test runs with
        Path debian = Path.of("/usr/sbin/nginx");
        return Files.isExecutable(debian) ? debian : Interop.tool("nginx", "nginx");
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    InetSocketAddress http1() {
        return new InetSocketAddress("127.0.0.1", http1Port);
    }

    InetSocketAddress h2() {
        return new InetSocketAddress("127.0.0.1", h2Port);
    }

    /** The access log so far: one line a request, "CLIENT:PORT PEER PROTOCOL METHOD STATUS BYTES". */
    String accessLog() throws IOException {
        return Files.isRegularFile(accessLog) ? Files.readString(accessLog) : "";
    }

    @Override
    public void close() throws IOException {
        process.close();
    }
}
