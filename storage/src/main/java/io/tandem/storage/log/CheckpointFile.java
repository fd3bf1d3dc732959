package io.tandem.storage.log;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka's checkpoint text format, shared by recovery-point-offset-checkpoint, log-start-offset-checkpoint,
 * replication-offset-checkpoint (topic partition offset per line) and leader-epoch-checkpoint (epoch offset per
 * line):
 * <pre>
 * 0            version
 * N            number of entries
 * entry...     N lines of space-separated fields
 * </pre>
 * Written to a temp file, fsynced and renamed over the old one, so a crash leaves either the old or the new file.
 */
final class CheckpointFile {
    static final int VERSION = 0;

    private CheckpointFile() {
    }

    static void write(Path file, List<String> entries) throws IOException {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try (var out = Files.newOutputStream(temp);
             BufferedWriter writer = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8))) {
            writer.write(Integer.toString(VERSION));
            writer.newLine();
            writer.write(Integer.toString(entries.size()));
            writer.newLine();
            for (String entry : entries) {
                writer.write(entry);
                writer.newLine();
            }
            writer.flush();
        }
        try (var channel = java.nio.channels.FileChannel.open(temp, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** The entry lines, each split on spaces; empty when the file does not exist. */
    static List<String[]> read(Path file) throws IOException {
        List<String[]> entries = new ArrayList<>();
        if (!Files.exists(file)) {
            return entries;
        }
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.size() < 2) {
            throw new IOException("malformed checkpoint " + file + ": missing version or count");
        }
        int version = Integer.parseInt(lines.get(0).trim());
        if (version != VERSION) {
            throw new IOException("checkpoint " + file + " has unsupported version " + version);
        }
        int count = Integer.parseInt(lines.get(1).trim());
        if (lines.size() < 2 + count) {
            throw new IOException("malformed checkpoint " + file + ": expected " + count + " entries");
        }
        for (int i = 0; i < count; i++) {
            String line = lines.get(2 + i).trim();
            entries.add(line.split("\\s+"));
        }
        return entries;
    }
}
