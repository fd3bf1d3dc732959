package io.tandem.server.logging;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * Installs Tandem's log output at start-up: java.util.logging (which the code's {@code java.util.logging.Logger}s and
 * {@code System.Logger}s both write to, System.Logger's default backend being java.util.logging) gets one console
 * handler on stderr with {@link LogLineFormatter}. It never overrides a configuration the user chose: with
 * {@code java.util.logging.config.file} or {@code .class} set, or root handlers other than the JDK's default
 * console handler, only an explicitly asked-for level is applied.
 */
public final class Logging {
    private static final AtomicBoolean INSTALLED = new AtomicBoolean();
    /** The handler installed here, if any: the shutdown hook writes its last lines to it directly. */
    private static volatile Handler console;

    private Logging() {
    }

    /**
     * {@code tandem start}: the level and format the flags ask for (null: INFO, text). The user's own logging
     * configuration still wins over the format; the level given on the command line applies either way.
     */
    public static void install(Level level, LogLineFormatter.Format format) {
        Logger root = LogManager.getLogManager().getLogger("");
        if (level != null) root.setLevel(level);
        if (userConfigured(root)) return;
        replaceHandlers(root, format == null ? LogLineFormatter.Format.TEXT : format);
        INSTALLED.set(true);
    }

    /**
     * The embedding API: Tandem's one-line text format at INFO, once per JVM, and only if nobody has configured
     * java.util.logging (an application that has, keeps its own).
     */
    public static void installDefault() {
        if (INSTALLED.get()) return;
        synchronized (Logging.class) {
            if (INSTALLED.get()) return;
            Logger root = LogManager.getLogManager().getLogger("");
            if (!userConfigured(root)) replaceHandlers(root, LogLineFormatter.Format.TEXT);
            INSTALLED.set(true);
        }
    }

    /** A level by an operator's name (error, warn, info, debug, trace) or java.util.logging's (SEVERE, FINE, ...). */
    public static Level parseLevel(String name) {
        String upper = name.trim().toUpperCase(Locale.ROOT);
        return switch (upper) {
            case "ERROR" -> Level.SEVERE;
            case "WARN" -> Level.WARNING;
            case "DEBUG" -> Level.FINE;
            case "TRACE" -> Level.FINEST;
            case "OFF" -> Level.OFF;
            default -> {
                try {
                    yield Level.parse(upper);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("unknown log level '" + name
                            + "' (expected error, warn, info, debug or trace)");
                }
            }
        };
    }

    /** A configuration file or class, or handlers other than the JDK's own default console handler. */
    static boolean userConfigured(Logger root) {
        if (System.getProperty("java.util.logging.config.file") != null
                || System.getProperty("java.util.logging.config.class") != null) {
            return true;
        }
        Handler[] handlers = root.getHandlers();
        if (handlers.length == 0) return false;
        if (handlers.length > 1) return true;
        Handler only = handlers[0];
        boolean jdkDefault = only.getClass() == ConsoleHandler.class && only.getFormatter() instanceof SimpleFormatter;
        boolean ours = only.getFormatter() instanceof LogLineFormatter;
        return !jdkDefault && !ours;
    }

    private static void replaceHandlers(Logger root, LogLineFormatter.Format format) {
        for (Handler handler : root.getHandlers()) {
            root.removeHandler(handler);
            handler.close();
        }
        Handler console = new StderrHandler();
        console.setFormatter(new LogLineFormatter(format));
        console.setLevel(Level.ALL); // the loggers' levels decide
        root.addHandler(console);
        Logging.console = console;
    }

    /**
     * Writes each record to stderr as the JDK's ConsoleHandler does, but to {@code System.err} as it is at the time of
     * the record rather than when the handler was made, so a caller that swaps stderr for a while (a test capturing
     * output, an embedding application) does not keep Tandem's lines afterwards. One print per record: lines of
     * concurrent records never interleave.
     */
    static final class StderrHandler extends Handler {
        @Override
        public void publish(java.util.logging.LogRecord record) {
            if (!isLoggable(record)) return;
            String text;
            try {
                text = getFormatter().format(record);
            } catch (RuntimeException e) {
                reportError(null, e, java.util.logging.ErrorManager.FORMAT_FAILURE);
                return;
            }
            System.err.print(text);
            System.err.flush();
        }

        @Override
        public void flush() {
            System.err.flush();
        }

        @Override
        public void close() {
            flush();
        }
    }

    /**
     * Logs from a shutdown hook: java.util.logging's own hook (LogManager.reset) may already have detached every
     * handler, which would silently drop the line, so it goes to the handler installed here directly (a console
     * handler still writes after reset: closing it only flushes). With the user's own configuration, it is logged
     * normally.
     */
    public static void logAtShutdown(Class<?> component, String message) {
        Handler handler = console;
        if (handler == null) {
            Logger.getLogger(component.getName()).info(message);
            return;
        }
        java.util.logging.LogRecord record = new java.util.logging.LogRecord(Level.INFO, message);
        record.setLoggerName(component.getName());
        handler.publish(record);
        handler.flush();
    }
}
