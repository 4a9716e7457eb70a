package dev.turnpike.daemon;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Proxy;

/**
 * POSIX signals (SIGHUP to reload, SIGTERM to drain) through {@code sun.misc.Signal} of the JDK's
 * {@code jdk.unsupported} module, the only way Java has to take one. It is reached by reflection because javac's
 * warning about a proprietary API cannot be suppressed and the build treats warnings as errors; the JDK supports
 * it all the same (it is what {@code jdk.unsupported} is for).
 */
final class Signals {
    private Signals() {}

    /**
     * Runs {@code handler} (on a thread of the JVM's) each time the process gets signal {@code name} ("HUP",
     * "TERM"). Answers false, and changes nothing, where the JVM cannot: the signal then keeps its default.
     */
    static boolean handle(String name, Runnable handler) {
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
            signalClass.getMethod("handle", signalClass, handlerInterface).invoke(null, signal, proxy);
            return true;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            return false;
        }
    }
}
