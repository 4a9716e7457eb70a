package dev.turnpike.daemon;

/** A start-up failure reported as one line with an exit code (2 for configuration, 1 for environment). */
final class StartupException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int exitCode;

    StartupException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }
}
