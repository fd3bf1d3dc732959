package io.tandem.server.cli;

import io.tandem.kafka.client.ConsumedRecord;
import io.tandem.kafka.client.RecordHeader;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prints a consumed record as kafka-console-consumer's DefaultMessageFormatter does (same properties, same field order:
 * timestamp, partition, offset, headers, key, value), or as a JSON object.
 */
final class RecordFormatter {
    static final List<String> KNOWN = List.of("print.timestamp", "print.key", "print.offset", "print.partition",
            "print.headers", "print.value", "key.separator", "line.separator", "headers.separator", "null.literal");

    private final boolean printTimestamp;
    private final boolean printKey;
    private final boolean printOffset;
    private final boolean printPartition;
    private final boolean printHeaders;
    private final boolean printValue;
    private final String keySeparator;
    private final String lineSeparator;
    private final String headersSeparator;
    private final String nullLiteral;

    RecordFormatter(Map<String, String> properties) {
        for (String key : properties.keySet()) {
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException("unknown --property '" + key + "' (known: " + KNOWN + ")");
            }
        }
        printTimestamp = flag(properties, "print.timestamp", false);
        printKey = flag(properties, "print.key", false);
        printOffset = flag(properties, "print.offset", false);
        printPartition = flag(properties, "print.partition", false);
        printHeaders = flag(properties, "print.headers", false);
        printValue = flag(properties, "print.value", true);
        keySeparator = properties.getOrDefault("key.separator", "\t");
        lineSeparator = properties.getOrDefault("line.separator", "\n");
        headersSeparator = properties.getOrDefault("headers.separator", ",");
        nullLiteral = properties.getOrDefault("null.literal", "null");
    }

    String format(ConsumedRecord record) {
        StringBuilder out = new StringBuilder();
        if (printTimestamp) {
            out.append(record.timestampType()).append(':').append(record.timestamp());
            separator(out, printPartition || printOffset || printHeaders || printKey || printValue);
        }
        if (printPartition) {
            out.append("Partition:").append(record.partition());
            separator(out, printOffset || printHeaders || printKey || printValue);
        }
        if (printOffset) {
            out.append("Offset:").append(record.offset());
            separator(out, printHeaders || printKey || printValue);
        }
        if (printHeaders) {
            if (record.headers().isEmpty()) {
                out.append("NO_HEADERS");
            } else {
                List<String> headers = new ArrayList<>();
                for (RecordHeader header : record.headers()) {
                    headers.add(header.key() + ":" + text(header.value()));
                }
                out.append(String.join(headersSeparator, headers));
            }
            separator(out, printKey || printValue);
        }
        if (printKey) {
            out.append(text(record.key()));
            separator(out, printValue);
        }
        if (printValue) {
            out.append(text(record.value())).append(lineSeparator);
        }
        return out.toString();
    }

    /**
     * The record as a JSON-ready map. Keys, values and header values that are valid UTF-8 appear as strings under
     * {@code key}/{@code value}; other bytes appear base64-encoded under {@code keyBase64}/{@code valueBase64}.
     */
    static Map<String, Object> toJson(ConsumedRecord record) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("topic", record.topic());
        json.put("partition", record.partition());
        json.put("offset", record.offset());
        json.put("timestamp", record.timestamp());
        json.put("timestampType", record.timestampType());
        putBytes(json, "key", record.key());
        putBytes(json, "value", record.value());
        List<Map<String, Object>> headers = new ArrayList<>();
        for (RecordHeader header : record.headers()) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("key", header.key());
            putBytes(h, "value", header.value());
            headers.add(h);
        }
        json.put("headers", headers);
        return json;
    }

    private static void putBytes(Map<String, Object> json, String name, byte[] bytes) {
        String text = bytes == null ? null : utf8(bytes);
        if (bytes != null && text == null) {
            json.put(name + "Base64", Base64.getEncoder().encodeToString(bytes));
        } else {
            json.put(name, text);
        }
    }

    private String text(byte[] bytes) {
        return bytes == null ? nullLiteral : new String(bytes, StandardCharsets.UTF_8);
    }

    private void separator(StringBuilder out, boolean column) {
        out.append(column ? keySeparator : lineSeparator);
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    private static boolean flag(Map<String, String> properties, String key, boolean fallback) {
        String value = properties.get(key);
        return value == null ? fallback : Boolean.parseBoolean(value.trim());
    }
}
