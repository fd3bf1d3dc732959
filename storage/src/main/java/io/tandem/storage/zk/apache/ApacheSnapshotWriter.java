package io.tandem.storage.zk.apache;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.zip.Adler32;
import java.util.zip.CheckedOutputStream;

/**
 * Writes a snapshot file Apache ZooKeeper 3.9 starts from (the layout is on {@link ApacheSnapshotReader}). The digest
 * section is written empty (zxid 0), which Apache reads as "no digest to compare" rather than as a mismatch: Tandem
 * does not compute Apache's tree digest. The last processed zxid section is written, as 3.9 does by default.
 */
public final class ApacheSnapshotWriter {
    /** Apache's {@code FileSnap} writes dbid -1. */
    static final long DB_ID = -1;
    /** {@code DigestCalculator.DIGEST_VERSION} of 3.9. */
    static final int DIGEST_VERSION = 2;

    @FunctionalInterface
    public interface Body {
        void writeTo(DataOutputStream out) throws IOException;
    }

    /**
     * Writes {@code <dataDir>/version-2/snapshot.<zxid hex>} through a temporary file, fsync and rename, so Apache
     * never sees a partial snapshot under the final name. Returns the file.
     */
    public static Path write(Path dataDir, long zxid, Body body) throws IOException {
        return write(dataDir, zxid, body, () -> zxid);
    }

    /**
     * As {@link #write(Path, long, Body)} for a fuzzy snapshot, written while the tree goes on changing: the file is
     * named after {@code zxid}, the tree's last processed zxid when the walk began, and the last processed zxid
     * section holds {@code lastProcessedZxid}'s answer once the body is written, as Apache's FileSnap does (its name
     * comes from the zxid before the walk, the section from DataTree.lastProcessedZxid after it).
     */
    public static Path write(Path dataDir, long zxid, Body body, java.util.function.LongSupplier lastProcessedZxid)
            throws IOException {
        Path dir = ApacheFiles.versionDir(dataDir);
        Files.createDirectories(dir);
        String name = ApacheFiles.snapshotName(zxid);
        // Not "snapshot.*": Apache would take a leftover temp file for a snapshot.
        Path temp = dir.resolve("tmp." + name);
        Path target = dir.resolve(name);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            BufferedOutputStream buffered = new BufferedOutputStream(Channels.newOutputStream(channel), 64 << 10);
            CheckedOutputStream checked = new CheckedOutputStream(buffered, new Adler32());
            DataOutputStream out = new DataOutputStream(checked);
            out.writeInt(ApacheSnapshotReader.MAGIC);
            out.writeInt(ApacheSnapshotReader.VERSION);
            out.writeLong(DB_ID);
            body.writeTo(out);
            seal(out, checked);
            out.writeLong(0);
            out.writeInt(DIGEST_VERSION);
            out.writeLong(0);
            seal(out, checked);
            out.writeLong(lastProcessedZxid.getAsLong());
            seal(out, checked);
            out.flush();
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        try (FileChannel directory = FileChannel.open(dir, StandardOpenOption.READ)) {
            directory.force(true);
        }
        return target;
    }

    private static void seal(DataOutputStream out, CheckedOutputStream checked) throws IOException {
        out.writeLong(checked.getChecksum().getValue());
        writeString(out, "/");
    }

    /** A jute string: int32 byte length (-1 for null), then UTF-8. */
    public static void writeString(DataOutputStream out, String value) throws IOException {
        writeBuffer(out, value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    /** A jute buffer: int32 length (-1 for null), then the bytes. */
    public static void writeBuffer(DataOutputStream out, byte[] value) throws IOException {
        if (value == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(value.length);
            out.write(value);
        }
    }

    private ApacheSnapshotWriter() {
    }
}
