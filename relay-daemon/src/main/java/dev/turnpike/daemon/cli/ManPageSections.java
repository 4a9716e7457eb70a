package dev.turnpike.daemon.cli;

import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * What the man page says beyond the options picocli-codegen writes: every subcommand's options, and the sections
 * an operator looks for in man(1) (SIGNALS, ENVIRONMENT, FILES, EXAMPLES). Added to the generated AsciiDoc by
 * {@code Documentation}; the exit status is the command's own {@code exitCodeList}.
 */
public final class ManPageSections {
    private ManPageSections() {}

    /** Each subcommand with its options, as AsciiDoc. */
    public static String subcommandOptions(Map<String, CommandLine> subcommands) {
        StringBuilder page = new StringBuilder("== Command options\n\n");
        for (var sub : subcommands.entrySet()) {
            CommandLine.Model.CommandSpec spec = sub.getValue().getCommandSpec();
            page.append("=== turnpike ").append(sub.getKey()).append("\n\n");
            page.append(String.join(" ", spec.usageMessage().description())).append("\n\n");
            for (CommandLine.Model.PositionalParamSpec positional : spec.positionalParameters()) {
                page.append('_')
                        .append(positional.paramLabel())
                        .append("_::\n  ")
                        .append(String.join(" ", positional.description()))
                        .append("\n\n");
            }
            for (OptionSpec option : spec.options()) {
                if (option.usageHelp() || option.versionHelp()) {
                    continue;
                }
                page.append('*').append(String.join("*, *", option.names())).append('*');
                if (option.arity().max() > 0) {
                    page.append("=_").append(option.paramLabel()).append('_');
                }
                page.append("::\n  ")
                        .append(String.join(" ", option.description()))
                        .append("\n\n");
            }
        }
        return page.toString();
    }

    public static final String SECTIONS = """
            == Signals

            *SIGTERM*::
              Drain: new allocations are refused (300 Try Alternate to an *--alternate-server*, else 508), live ones
              relay until they end or *--drain-timeout* passes, then the process exits 0. A second SIGTERM stops at
              once. systemd's stop sends it.

            *SIGHUP*::
              Reload the configuration (flags, environment and *--config* file as they are now): users, secrets,
              peers and limits change without dropping an allocation; what binds sockets takes a restart, and a
              reload that asks for it is refused whole. Handled even when the process started with SIGHUP ignored
              (under nohup). The same as *POST /reload* on the metrics listener.

            *SIGINT*::
              Stop at once, exit 0.

            == Environment

            *TURNPIKE_*_OPTION_::
              Any option, named in capitals with underscores (*--relay-ports*: TURNPIKE_RELAY_PORTS). A flag wins
              over it, and it over the config file.

            *TURNPIKE_CONFIG*::
              The config file, as *--config*.

            *CREDENTIALS_DIRECTORY*::
              Set by systemd's LoadCredential=: relative *--auth-secret-file*, *--users-file*, *--admin-token-file*
              and *--tls-key* names are looked up there.

            *NOTIFY_SOCKET*::
              Set by systemd for Type=notify: READY=1 once listening, STOPPING=1 when a drain begins, and a
              watchdog ping while the event loop runs.

            == Files

            */etc/turnpike/turnpike.properties*::
              The configuration of the packaged service: one option a line, as its flag without the dashes;
              repeatable options may be given on several lines.

            */etc/turnpike/turn-secret*, */etc/turnpike/users*::
              The shared secret and the fixed users, root-only; the service reads them as the credentials
              turn-secret and users.

            */lib/systemd/system/turnpike.service*::
              The hardened unit: systemctl reload sends SIGHUP, stop drains.

            */opt/turnpike*::
              The relay with its own Java runtime; */usr/bin/turnpike* runs it.

            == Examples

            Run on one address with one user, peers on loopback allowed:

              turnpike --listen 127.0.0.1:3478 --realm example.org --user alice:wonderland --allow-peer 127.0.0.0/8

            A public relay behind a cloud 1:1 NAT, time-limited credentials, every core:

              turnpike --public-address 203.0.113.10 --auth-secret-file turn-secret --workers auto

            Mint a credential for an hour, and check the relay end to end with it:

              turnpike credentials --secret-file /etc/turnpike/turn-secret --user alice --ttl 1h
              turnpike probe turn:relay.example.org --user alice --secret-file /etc/turnpike/turn-secret

            Check a relay over TLS, and only that it answers (a container's HEALTHCHECK):

              turnpike probe turns:relay.example.org:443
              turnpike probe turn:127.0.0.1:3478

            Move from coturn: print the equivalent configuration, and what does not map:

              turnpike import-coturn /etc/turnserver.conf

            Stop a leaked credential now, on the relay's host (the admin endpoints of metrics-listen):

              turnpike admin list
              turnpike admin revoke alice
              turnpike admin end 42

            """;
}
