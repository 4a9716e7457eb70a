package dev.turnpike.daemon.cli;

import dev.turnpike.core.auth.Credentials;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code turnpike credentials}: time-limited credentials from a shared secret (the "TURN REST API" scheme the
 * relay's {@code --auth-secret} and {@code --auth-secret-file} accept), as an application's backend would hand
 * them to a browser, and as a WebRTC {@code iceServers} entry.
 */
@Command(
        name = "credentials",
        mixinStandardHelpOptions = true,
        description = "Print time-limited credentials made with a shared secret, and an iceServers entry.")
public final class CredentialsCommand implements Callable<Integer> {
    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--secret-file",
            paramLabel = "PATH",
            required = true,
            description = "A file holding the shared secret (its first secret line), as for --auth-secret-file.")
    String secretFile;

    @Option(
            names = "--user",
            paramLabel = "NAME",
            required = true,
            description = "Whom the credentials are for (it counts against --user-quota by this name).")
    String user;

    @Option(
            names = "--tag",
            paramLabel = "TAG",
            description = "A tag the relay reports usage by (a customer, a team): the username becomes "
                    + "EXPIRY:NAME:TAG, signed with the rest. Letters, digits, '.', '_' and '-', at most 64.")
    String tag;

    @Option(
            names = "--ttl",
            paramLabel = "DURATION",
            defaultValue = "1h",
            description = "How long they are good for: 90s, 30m, 1h, 1d. Default: ${DEFAULT-VALUE}.")
    String ttl;

    @Option(
            names = "--url",
            paramLabel = "URL",
            split = ",",
            description = "The relay's URLs for the iceServers entry, e.g. turn:relay.example.org:3478; repeatable.")
    List<String> urls = new ArrayList<>();

    @Override
    public Integer call() {
        long seconds = seconds(ttl);
        if (user.isBlank() || user.contains(":")) {
            throw new StartupException("--user '" + user + "' (expected: a name without ':')", 2);
        }
        if (tag != null && !tag.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new StartupException("--tag '" + tag + "' (expected: 1 to 64 letters, digits, '.', '_' or '-')", 2);
        }
        String secret =
                SecretFiles.read("--secret-file", secretFile, System.getenv()).get(0);
        Credentials.TimeLimited credentials =
                Credentials.timeLimited(secret, user, tag, System.currentTimeMillis() / 1000 + seconds);
        String username = credentials.username();
        String password = credentials.password();
        PrintWriter out = spec.commandLine().getOut();
        out.println("username: " + username);
        out.println("password: " + password);
        out.println("{\"urls\":" + jsonArray(urls) + ",\"username\":\"" + username + "\",\"credential\":\"" + password
                + "\"}");
        out.flush();
        return 0;
    }

    /** 90s, 30m, 1h, 1d, or an ISO-8601 duration (PT1H); one line naming the flag otherwise. */
    static long seconds(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        long value;
        try {
            if (t.matches("[0-9]+[smhd]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                value = switch (t.charAt(t.length() - 1)) {
                    case 's' -> n;
                    case 'm' -> n * 60;
                    case 'h' -> n * 3600;
                    default -> n * 86_400;
                };
            } else {
                value = Duration.parse(text.strip()).toSeconds();
            }
        } catch (DateTimeParseException | NumberFormatException e) {
            value = -1;
        }
        if (value < 1 || value > 366L * 86_400) {
            throw new StartupException("--ttl '" + text + "' (expected: 1s to 366d, e.g. 90s, 30m, 1h, 1d)", 2);
        }
        return value;
    }

    private static String jsonArray(List<String> values) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < values.size(); i++) {
            String v = values.get(i).replace("\\", "\\\\").replace("\"", "\\\"");
            b.append(i == 0 ? "" : ",").append('"').append(v).append('"');
        }
        return b.append(']').toString();
    }
}
