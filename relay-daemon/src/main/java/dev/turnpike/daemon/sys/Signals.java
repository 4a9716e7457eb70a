package dev.turnpike.daemon.sys;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

/**
 * POSIX signals (SIGHUP to reload, SIGTERM to drain) through {@code sun.misc.Signal} of the JDK's
 * {@code jdk.unsupported} module, the only way Java has to take one. It is reached by reflection because javac's
 * warning about a proprietary API cannot be suppressed and the build treats warnings as errors; the JDK supports
 * it all the same (it is what {@code jdk.unsupported} is for).
 */
public final class Signals {
    private Signals() {}

    /** What {@link #handle} could do. */
    enum Outcome {
        HANDLED,
        /**
         * The process started with the signal ignored (nohup, or a supervisor that ignores it), which the JVM
         * honours by installing nothing; its disposition was reset to the default and the handler installed.
         */
        HANDLED_THOUGH_IGNORED_AT_START,
        /** Ignored at start, and it could not be reset: the signal stays ignored. */
        IGNORED_AT_START,
        /** The JVM cannot take it here: the signal keeps its default. */
        UNAVAILABLE
    }

    /**
     * Runs {@code handler} (on a thread of the JVM's) each time the process gets signal {@code name} ("HUP",
     * "TERM"), even when the process started with it ignored (see {@link Outcome}).
     */
    static Outcome handle(String name, int number, Runnable handler) {
        Object previous = install(name, handler);
        if (previous == null) {
            return Outcome.UNAVAILABLE;
        }
        if (!isIgnore(previous)) {
            return Outcome.HANDLED;
        }
        if (!resetToDefault(number)) {
            return Outcome.IGNORED_AT_START;
        }
        Object again = install(name, handler);
        return again != null && !isIgnore(again) ? Outcome.HANDLED_THOUGH_IGNORED_AT_START : Outcome.IGNORED_AT_START;
    }

    /** Whether a previous handler that sun.misc.Signal answered is SIG_IGN: the JVM then installed nothing. */
    private static boolean isIgnore(Object previous) {
        try {
            return previous
                    == Class.forName("sun.misc.SignalHandler")
                            .getField("SIG_IGN")
                            .get(null);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** signal(number, SIG_DFL) in libc, through FFM: false where it cannot be called. */
    private static boolean resetToDefault(int number) {
        try {
            // sighandler_t signal(int signum, sighandler_t handler)
            java.lang.invoke.MethodHandle signal = Libc.downcall(
                    "signal",
                    java.lang.foreign.FunctionDescriptor.of(
                            java.lang.foreign.ValueLayout.ADDRESS,
                            java.lang.foreign.ValueLayout.JAVA_INT,
                            java.lang.foreign.ValueLayout.ADDRESS),
                    false);
            java.lang.foreign.MemorySegment previous = (java.lang.foreign.MemorySegment)
                    signal.invokeExact(number, java.lang.foreign.MemorySegment.NULL); // SIG_DFL is 0
            return previous.address() != -1L; // SIG_ERR
        } catch (Throwable e) {
            return false;
        }
    }

    /** Installs the handler; answers the previous one, or null where the JVM cannot take the signal. */
    private static Object install(String name, Runnable handler) {
        try {
            Class<?> signalClass = Class.forName("sun.misc.Signal");
            Class<?> handlerInterface = Class.forName("sun.misc.SignalHandler");
            Object signal = signalClass.getConstructor(String.class).newInstance(name);
            InvocationHandler calls = (proxy, method, args) -> switch (method.getName()) {
                case "handle" -> {
                    handler.run();
                    yield null;
                }
                case "hashCode" -> System.identityHashCode(proxy);
                case "equals" -> proxy == args[0];
                default -> "turnpike SIG" + name + " handler";
            };
            Object proxy =
                    Proxy.newProxyInstance(Signals.class.getClassLoader(), new Class<?>[] {handlerInterface}, calls);
            return signalClass
                    .getMethod("handle", signalClass, handlerInterface)
                    .invoke(null, signal, proxy);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return null;
        }
    }
}
