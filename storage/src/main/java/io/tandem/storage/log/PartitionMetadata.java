package io.tandem.storage.log;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;

/**
 * Kafka's optional {@code partition.metadata} file in a partition directory, recording the topic id so a directory
 * left behind by a deleted topic is not mistaken for a new topic of the same name:
 * <pre>
 * version: 0
 * topic_id: &lt;topic id, base64 url-safe without padding, as Kafka prints Uuids&gt;
 * </pre>
 */
public final class PartitionMetadata {
    static final String FILE_NAME = "partition.metadata";

    private PartitionMetadata() {
    }

    public static void write(Path partitionDir, String topicId) throws IOException {
        if (topicId.isBlank() || topicId.contains("\n")) {
            throw new IllegalArgumentException("invalid topic id '" + topicId + "'");
        }
        Path file = partitionDir.resolve(FILE_NAME);
        Path temp = partitionDir.resolve(FILE_NAME + ".tmp");
        Files.writeString(temp, "version: 0\ntopic_id: " + topicId + "\n", StandardCharsets.UTF_8);
        try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The topic id recorded in the directory, or empty when there is no file. */
    public static Optional<String> readTopicId(Path partitionDir) throws IOException {
        Path file = partitionDir.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.size() < 2 || !lines.get(0).trim().equals("version: 0") || !lines.get(1).startsWith("topic_id:")) {
            throw new IOException("malformed " + file + ": " + lines);
        }
        return Optional.of(lines.get(1).substring("topic_id:".length()).trim());
    }
}
