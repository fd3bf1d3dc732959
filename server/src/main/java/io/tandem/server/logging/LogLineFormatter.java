package io.tandem.server.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;

/**
 * One log record per line, for people ({@link Format#TEXT}) or for log shippers ({@link Format#JSON}), with the time
 * (UTC, milliseconds), level, thread and component (the logger's class) on every line:
 * <pre>
 * 2026-05-01T10:00:00.123Z INFO  [zk-commit] ZkServer: ZooKeeper server listening on ...
 * {"time":"2026-05-01T10:00:00.123Z","level":"INFO","thread":"zk-commit","logger":"io...ZkServer","message":"..."}
 * </pre>
 * Levels use the names operators know (ERROR, WARN, INFO, DEBUG, TRACE) rather than java.util.logging's. A message's
 * own line breaks are escaped so a record stays one line; a stack trace follows a text line indented by a tab (the
 * convention log tools fold into the record) and is a field of the JSON object.
 */
public final class LogLineFormatter extends Formatter {
    /** The two layouts {@code tandem start --log-format} offers. */
    public enum Format {
        TEXT, JSON;

        public static Format parse(String name) {
            try {
                return valueOf(name.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown log format '" + name + "' (expected text or json)");
            }
        }
    }

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final Format format;

    public LogLineFormatter(Format format) {
        this.format = format;
    }

    public Format format() {
        return format;
    }

    /** Operators' name for a java.util.logging level (System.Logger's ERROR is SEVERE, DEBUG is FINE, ...). */
    public static String levelName(Level level) {
        int value = level.intValue();
        if (value >= Level.SEVERE.intValue()) return "ERROR";
        if (value >= Level.WARNING.intValue()) return "WARN";
        if (value >= Level.INFO.intValue()) return "INFO";
        if (value >= Level.FINE.intValue()) return "DEBUG";
        return "TRACE";
    }

    @Override
    public String format(LogRecord record) {
        String time = TIME.format(Instant.ofEpochMilli(record.getMillis()));
        String level = levelName(record.getLevel());
        String thread = threadName(record);
        String logger = record.getLoggerName() == null ? "" : record.getLoggerName();
        String message = formatMessage(record);
        Throwable thrown = record.getThrown();
        if (format == Format.JSON) {
            StringBuilder json = new StringBuilder(128).append('{');
            field(json, "time", time).append(',');
            field(json, "level", level).append(',');
            field(json, "thread", thread).append(',');
            field(json, "logger", logger).append(',');
            field(json, "message", message);
            if (thrown != null) {
                json.append(',');
                field(json, "exception", thrown.toString()).append(',');
                field(json, "stack", stackTrace(thrown));
            }
            return json.append("}\n").toString();
        }
        StringBuilder line = new StringBuilder(128).append(time).append(' ').append(level);
        for (int pad = level.length(); pad < 5; pad++) line.append(' ');
        line.append(" [").append(thread).append("] ").append(component(logger)).append(": ")
                .append(oneLine(message)).append('\n');
        if (thrown != null) {
            for (String traceLine : stackTrace(thrown).split("\n")) line.append('\t').append(traceLine).append('\n');
        }
        return line.toString();
    }

    /**
     * The thread that logged: handlers here publish on the logging thread, so its name is at hand; a record handed
     * over from elsewhere keeps only its thread id.
     */
    private static String threadName(LogRecord record) {
        Thread current = Thread.currentThread();
        return current.getId() == record.getLongThreadID() ? current.getName() : "thread-" + record.getLongThreadID();
    }

    /** The logger's simple class name: what the record is about, without the package. */
    static String component(String logger) {
        int dot = logger.lastIndexOf('.');
        return dot < 0 ? logger : logger.substring(dot + 1);
    }

    private static String oneLine(String message) {
        return message.indexOf('\n') < 0 && message.indexOf('\r') < 0 ? message
                : message.replace("\r", "\\r").replace("\n", "\\n");
    }

    private static String stackTrace(Throwable thrown) {
        StringWriter out = new StringWriter();
        thrown.printStackTrace(new PrintWriter(out));
        return out.toString().stripTrailing();
    }

    private static StringBuilder field(StringBuilder json, String name, String value) {
        json.append('"').append(name).append("\":\"");
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> json.append("\\\"");
                case '\\' -> json.append("\\\\");
                case '\n' -> json.append("\\n");
                case '\r' -> json.append("\\r");
                case '\t' -> json.append("\\t");
                default -> {
                    if (c < 0x20) json.append(String.format("\\u%04x", (int) c));
                    else json.append(c);
                }
            }
        }
        return json.append('"');
    }
}
