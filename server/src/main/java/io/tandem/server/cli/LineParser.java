package io.tandem.server.cli;

import io.tandem.kafka.client.RecordHeader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns an input line into key, value and headers the way kafka-console-producer's LineMessageReader does, driven by
 * the same properties: {@code parse.key} + {@code key.separator} (default tab), {@code parse.headers} +
 * {@code headers.delimiter} (tab), {@code headers.separator} (comma), {@code headers.key.separator} (colon), and
 * {@code null.marker} (a key, value or header value equal to it is sent as null). A line is
 * {@code [headers<delimiter>][key<separator>]value}.
 */
final class LineParser {
    /** Properties kafka-console-producer knows; anything else is refused rather than silently ignored. */
    static final List<String> KNOWN = List.of("parse.key", "key.separator", "parse.headers", "headers.delimiter",
            "headers.separator", "headers.key.separator", "null.marker", "ignore.error");

    record Parsed(byte[] key, byte[] value, List<RecordHeader> headers) {
    }

    private final boolean parseKey;
    private final String keySeparator;
    private final boolean parseHeaders;
    private final String headersDelimiter;
    private final String headersSeparator;
    private final String headerKeySeparator;
    private final String nullMarker;
    private final boolean ignoreError;

    LineParser(Map<String, String> properties) {
        for (String key : properties.keySet()) {
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException("unknown --property '" + key + "' (known: " + KNOWN + ")");
            }
        }
        this.parseKey = Boolean.parseBoolean(properties.getOrDefault("parse.key", "false"));
        this.keySeparator = nonEmpty(properties, "key.separator", "\t");
        this.parseHeaders = Boolean.parseBoolean(properties.getOrDefault("parse.headers", "false"));
        this.headersDelimiter = nonEmpty(properties, "headers.delimiter", "\t");
        this.headersSeparator = nonEmpty(properties, "headers.separator", ",");
        this.headerKeySeparator = nonEmpty(properties, "headers.key.separator", ":");
        this.nullMarker = properties.get("null.marker");
        this.ignoreError = Boolean.parseBoolean(properties.getOrDefault("ignore.error", "false"));
        // Kafka's reader refuses the same combinations: the parts could not be told apart.
        if (headersDelimiter.equals(headersSeparator) || headersDelimiter.equals(headerKeySeparator)
                || headersSeparator.equals(headerKeySeparator)) {
            throw new IllegalArgumentException("headers.delimiter, headers.separator and headers.key.separator must"
                    + " differ from each other");
        }
    }

    /** Parses one line (1-based {@code lineNumber} for messages). */
    Parsed parse(String line, long lineNumber) {
        String rest = line;
        List<RecordHeader> headers = List.of();
        if (parseHeaders) {
            int at = rest.indexOf(headersDelimiter);
            if (at < 0) {
                if (!ignoreError) {
                    throw new CliException(ExitCodes.ERROR, "no headers delimiter found on line " + lineNumber);
                }
            } else {
                headers = headers(rest.substring(0, at), lineNumber);
                rest = rest.substring(at + headersDelimiter.length());
            }
        }
        byte[] key = null;
        if (parseKey) {
            int at = rest.indexOf(keySeparator);
            if (at < 0) {
                if (!ignoreError) {
                    throw new CliException(ExitCodes.ERROR, "no key separator found on line " + lineNumber);
                }
            } else {
                key = bytesOrNull(rest.substring(0, at));
                rest = rest.substring(at + keySeparator.length());
            }
        }
        return new Parsed(key, bytesOrNull(rest), headers);
    }

    private List<RecordHeader> headers(String text, long lineNumber) {
        List<RecordHeader> headers = new ArrayList<>();
        if (text.isEmpty()) {
            return headers;
        }
        for (String header : text.split(java.util.regex.Pattern.quote(headersSeparator), -1)) {
            int at = header.indexOf(headerKeySeparator);
            String key = at < 0 ? header : header.substring(0, at);
            if (nullMarker != null && key.equals(nullMarker)) {
                throw new CliException(ExitCodes.ERROR, "header key on line " + lineNumber
                        + " is the null marker; header keys cannot be null");
            }
            byte[] value = at < 0 ? null : bytesOrNull(header.substring(at + headerKeySeparator.length()));
            headers.add(new RecordHeader(key, value));
        }
        return headers;
    }

    private byte[] bytesOrNull(String text) {
        return nullMarker != null && text.equals(nullMarker) ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private static String nonEmpty(Map<String, String> properties, String key, String fallback) {
        String value = properties.getOrDefault(key, fallback);
        if (value.isEmpty()) {
            throw new IllegalArgumentException("--property " + key + " must not be empty");
        }
        return value;
    }
}
