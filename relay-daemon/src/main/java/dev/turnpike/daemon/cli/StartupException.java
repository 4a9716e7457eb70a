package dev.turnpike.daemon.cli;

/** A start-up failure reported as one line with an exit code (2 for configuration, 1 for environment). */
public final class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final int exitCode;

    public StartupException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }
}
