package io.tandem.server.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

class LogLineFormatterTest {
    /** time (UTC, ms), level padded to five, [thread], component: message. */
    static final String TEXT_LINE =
            "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (ERROR|WARN |INFO |DEBUG|TRACE) "
                    + "\\[[^\\]]+] [\\w$]+: .*";

    private static LogRecord record(Level level, String message, Throwable thrown) {
        LogRecord record = new LogRecord(level, message);
        record.setLoggerName("io.tandem.server.zookeeper.ZkServer");
        record.setThrown(thrown);
        return record;
    }

    @Test
    void shouldWriteOneTextLineWithTimeLevelThreadAndComponent() {
        String line = new LogLineFormatter(LogLineFormatter.Format.TEXT).format(record(Level.WARNING, "disk\nfull",
                null));
        assertTrue(line.endsWith("\n") && line.indexOf('\n') == line.length() - 1, "one line: " + line);
        assertTrue(line.strip().matches(TEXT_LINE), line);
        assertTrue(line.contains(" WARN  [" + Thread.currentThread().getName() + "] ZkServer: disk\\nfull"), line);
    }

    @Test
    void shouldFollowATextLineWithItsStackTraceIndented() {
        String text = new LogLineFormatter(LogLineFormatter.Format.TEXT)
                .format(record(Level.SEVERE, "failed", new IllegalStateException("boom")));
        String[] lines = text.split("\n");
        assertTrue(lines[0].matches(TEXT_LINE) && lines[0].contains(" ERROR "), lines[0]);
        assertEquals("\tjava.lang.IllegalStateException: boom", lines[1]);
        for (int i = 1; i < lines.length; i++) assertTrue(lines[i].startsWith("\t"), lines[i]);
    }

    @Test
    void shouldWriteOneJsonObjectPerLine() throws Exception {
        String line = new LogLineFormatter(LogLineFormatter.Format.JSON).format(record(Level.FINE,
                "quote \" and\ttab\nnewline", new RuntimeException("why")));
        assertEquals(line.length() - 1, line.indexOf('\n'), "one line: " + line);
        JsonNode json = new ObjectMapper().readTree(line);
        assertEquals("DEBUG", json.get("level").asText());
        assertEquals(Thread.currentThread().getName(), json.get("thread").asText());
        assertEquals("io.tandem.server.zookeeper.ZkServer", json.get("logger").asText());
        assertEquals("quote \" and\ttab\nnewline", json.get("message").asText());
        assertEquals("java.lang.RuntimeException: why", json.get("exception").asText());
        assertTrue(json.get("stack").asText().contains("LogLineFormatterTest"));
        assertTrue(json.get("time").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));
    }

    @Test
    void shouldNameLevelsAsOperatorsDoAndParseBothNamings() {
        assertEquals(Level.SEVERE, Logging.parseLevel("error"));
        assertEquals(Level.WARNING, Logging.parseLevel("WARN"));
        assertEquals(Level.FINE, Logging.parseLevel("debug"));
        assertEquals(Level.FINEST, Logging.parseLevel("trace"));
        assertEquals(Level.INFO, Logging.parseLevel("info"));
        assertEquals(Level.FINER, Logging.parseLevel("FINER"));
        assertEquals("TRACE", LogLineFormatter.levelName(Level.FINER));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> Logging.parseLevel("loud"));
        assertTrue(bad.getMessage().contains("loud"));
        assertThrows(IllegalArgumentException.class, () -> LogLineFormatter.Format.parse("xml"));
    }

    @Test
    void shouldWriteToStderrAsItIsWhenEachRecordIsLogged() {
        Logging.StderrHandler handler = new Logging.StderrHandler();
        handler.setFormatter(new LogLineFormatter(LogLineFormatter.Format.TEXT));
        java.io.PrintStream err = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(captured, true));
        try {
            handler.publish(record(Level.INFO, "while captured", null));
        } finally {
            System.setErr(err);
        }
        handler.publish(record(Level.INFO, "after", null));
        String text = captured.toString();
        assertTrue(text.contains("ZkServer: while captured"), text);
        assertTrue(!text.contains("after"), "a later record goes to the stderr of its time: " + text);
    }
}
