package dev.turnpike.daemon.http;

/** Whether a reload was applied, and what changed or why it was refused, in words for a log or an HTTP body. */
public record ReloadOutcome(boolean applied, String message) {}
