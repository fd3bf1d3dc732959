package io.tandem.server.tls;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The JDK's keytool for the tests' throw-away key and trust stores: in this JVM when the surefire configuration opens
 * its package ({@code --add-opens java.base/sun.security.tools.keytool=ALL-UNNAMED}, the parent pom's argLine), else
 * as the {@code keytool} process of this JDK.
 *
 * <p>Why in this JVM: the test suites run keytool well over a hundred times, and each process is a JVM start (about
 * 0.5-1 s of CPU before it does anything), which on CI's two cores the other test JVM waits for as well. In this JVM
 * a run costs only its own work (an RSA key pair, a store written). It is the same keytool with the same arguments
 * and the same files; {@code -debug} makes a failure throw instead of ending the JVM ({@code System.exit(1)}), and any
 * failure to reach it in this JVM (another JDK's layout, the package not opened) falls back to the process.
 */
public final class Keytool {
    private static final Method RUN = inProcessEntry();

    private Keytool() {}

    /** Runs keytool with {@code args}; an IOException with keytool's output if it fails. */
    public static void run(String... args) throws IOException, InterruptedException {
        if (RUN != null && runInProcess(args)) return;
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + output);
        }
    }

    /**
     * Runs keytool in this JVM: true when it succeeded; throws what keytool reported for a failure of the command
     * itself (the process would fail the same way), false when keytool could not be reached here.
     */
    private static boolean runInProcess(String... args) throws IOException {
        List<String> withDebug = new ArrayList<>();
        withDebug.add("-debug"); // a failure throws rather than calling System.exit(1) in the test JVM
        withDebug.addAll(List.of(args));
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            Constructor<?> constructor = RUN.getDeclaringClass().getDeclaredConstructor();
            constructor.setAccessible(true);
            RUN.invoke(constructor.newInstance(), withDebug.toArray(String[]::new), out);
            return true;
        } catch (InvocationTargetException failed) {
            throw new IOException("keytool " + String.join(" ", args) + " failed: " + output.toString(
                    StandardCharsets.UTF_8), failed.getCause());
        } catch (ReflectiveOperationException | RuntimeException unreachable) {
            return false;
        }
    }

    /** keytool's {@code run(String[], PrintStream)}, or null when this JVM does not let the tests call it. */
    private static Method inProcessEntry() {
        try {
            Method run = Class.forName("sun.security.tools.keytool.Main")
                    .getDeclaredMethod("run", String[].class, PrintStream.class);
            run.setAccessible(true);
            return run;
        } catch (ReflectiveOperationException | RuntimeException notOpened) {
            return null;
        }
    }
}
