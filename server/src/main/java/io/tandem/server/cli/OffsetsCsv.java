package io.tandem.server.cli;

import io.tandem.kafka.client.TopicPartition;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * kafka-consumer-groups.sh's reset plan files, as {@code --export} writes them and {@code --from-file} reads them:
 * no header, one partition a line, {@code topic,partition,offset} when one group was named and
 * {@code group,topic,partition,offset} otherwise. Fields holding a comma, a quote or a line break are quoted with
 * doubled quotes inside, as the Jackson CSV writer Kafka uses does (topic names cannot hold them; group ids can).
 */
final class OffsetsCsv {
    private OffsetsCsv() {
    }

    /** The plan as Kafka's tool exports it; {@code withGroup} false only when a single group was named. */
    static String write(Map<String, Map<TopicPartition, Long>> plans, boolean withGroup) {
        StringBuilder text = new StringBuilder();
        plans.forEach((group, plan) -> plan.forEach((tp, offset) -> {
            if (withGroup) {
                text.append(field(group)).append(',');
            }
            text.append(field(tp.topic())).append(',').append(tp.partition()).append(',').append(offset).append('\n');
        }));
        return text.toString();
    }

    /**
     * Reads a plan. As Kafka's tool: when exactly one group was named ({@code singleGroup} not null) and the first
     * line reads as {@code topic,partition,offset}, every line is read so and belongs to that group; otherwise every
     * line must be {@code group,topic,partition,offset}.
     */
    static Map<String, Map<TopicPartition, Long>> read(String text, String singleGroup, String source) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        boolean withoutGroup = singleGroup != null && !lines.isEmpty() && parse(lines.get(0), 3) != null;
        Map<String, Map<TopicPartition, Long>> plans = new TreeMap<>();
        for (int i = 0; i < lines.size(); i++) {
            List<String> fields = parse(lines.get(i), withoutGroup ? 3 : 4);
            if (fields == null) {
                throw new IllegalArgumentException("line " + (i + 1) + " of " + source + " is not "
                        + (withoutGroup ? "topic,partition,offset" : "group,topic,partition,offset") + ": "
                        + lines.get(i));
            }
            String group = withoutGroup ? singleGroup : fields.get(0);
            int at = withoutGroup ? 0 : 1;
            plans.computeIfAbsent(group, g -> new TreeMap<>()).put(
                    new TopicPartition(fields.get(at), Integer.parseInt(fields.get(at + 1))),
                    Long.parseLong(fields.get(at + 2)));
        }
        return plans;
    }

    /** The line's fields when there are {@code count} of them and the last two are numbers; else null. */
    private static List<String> parse(String line, int count) {
        List<String> fields = split(line);
        if (fields == null || fields.size() != count) {
            return null;
        }
        try {
            Integer.parseInt(fields.get(count - 2));
            Long.parseLong(fields.get(count - 1));
        } catch (NumberFormatException e) {
            return null;
        }
        return fields;
    }

    /** Splits one CSV line; null when a quoted field is not closed. */
    private static List<String> split(String line) {
        List<String> fields = new ArrayList<>();
        StringBuilder field = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    field.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    field.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.add(field.toString());
                field.setLength(0);
            } else {
                field.append(c);
            }
        }
        if (quoted) {
            return null;
        }
        fields.add(field.toString());
        return fields;
    }

    private static String field(String value) {
        if (value.indexOf(',') < 0 && value.indexOf('"') < 0 && value.indexOf('\n') < 0 && value.indexOf('\r') < 0) {
            return value;
        }
        return '"' + value.replace("\"", "\"\"") + '"';
    }
}
