package io.tandem.server.kafka.log;

import io.tandem.server.kafka.metadata.TopicId;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Kafka's {@code partition.metadata} file (KIP-516) in a partition directory: the topic id the replica was made for,
 * in Kafka's own text ({@code version: 0}, {@code topic_id: ...}) so that an Apache broker opening the directory reads it.
 */
final class TopicIdFile {
    static final String NAME = "partition.metadata";

    private TopicIdFile() {
    }

    /** The id stored in {@code dir}, or null when none is. */
    static UUID read(Path dir) throws IOException {
        Path file = dir.resolve(NAME);
        if (!Files.exists(file)) return null;
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("topic_id:")) return TopicId.fromText(line.substring("topic_id:".length()).trim());
        }
        return null;
    }

    /** Replaces the stored id atomically: a crash leaves the old file or the new one, never half of one. */
    static void write(Path dir, UUID id) throws IOException {
        Path tmp = dir.resolve(NAME + ".tmp");
        Files.writeString(tmp, "version: 0\ntopic_id: " + TopicId.toText(id) + "\n");
        Files.move(tmp, dir.resolve(NAME), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
