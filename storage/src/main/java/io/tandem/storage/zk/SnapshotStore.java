package io.tandem.storage.zk;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * Snapshots of the ZooKeeper tree, one file per snapshot named {@code snapshot.<zxid, 16 hex digits>}.
 *
 * <pre>
 * file    := header body trailer
 * header  := magic:int32 ("TSNP") version:int32 zxid:int64
 * trailer := bodyLength:int64 crc:int32   crc = CRC32C over header and body
 * </pre>
 * A snapshot is written to {@code <name>.tmp}, fsynced, renamed into place and the directory fsynced, so a reader
 * only ever sees complete files under the final name; the trailing CRC still guards against later damage, and
 * {@link #latestValid} skips a file whose CRC or framing does not verify.
 */
public final class SnapshotStore {
    static final int MAGIC = 0x54534E50;
    static final int FORMAT_VERSION = 1;
    static final int HEADER_BYTES = 16;
    static final int TRAILER_BYTES = 12;
    static final String FILE_PREFIX = "snapshot.";
    private static final String TEMP_SUFFIX = ".tmp";
    private static final System.Logger LOG = System.getLogger(SnapshotStore.class.getName());

    private final Path dir;

    private SnapshotStore(Path dir) {
        this.dir = dir;
    }

    /** Opens (creating if needed) the snapshot directory and removes temp files left by a crash mid-write. */
    public static SnapshotStore open(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, FILE_PREFIX + "*" + TEMP_SUFFIX)) {
            for (Path leftover : stream) {
                LOG.log(Level.INFO, "removing unfinished snapshot {0}", leftover);
                Files.delete(leftover);
            }
        }
        return new SnapshotStore(dir);
    }

    /**
     * Writes a snapshot taken at {@code zxid}; it is durable and visible under its final name when this returns. Safe
     * to call from several threads for different zxids (each writes its own temporary file).
     */
    public Snapshot write(long zxid, SnapshotBody body) throws IOException {
        if (zxid < 0) {
            throw new IllegalArgumentException("negative zxid " + zxid);
        }
        Path target = dir.resolve(fileName(zxid));
        Path temp = dir.resolve(fileName(zxid) + TEMP_SUFFIX);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            CRC32C crc = new CRC32C();
            CountingOutputStream counter = new CountingOutputStream(Channels.newOutputStream(channel));
            DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(counter, crc),
                    64 << 10));
            out.writeInt(MAGIC);
            out.writeInt(FORMAT_VERSION);
            out.writeLong(zxid);
            body.writeTo(out);
            out.flush();
            long bodyBytes = counter.count - HEADER_BYTES;
            ByteBuffer trailer = ByteBuffer.allocate(TRAILER_BYTES).putLong(bodyBytes).putInt((int) crc.getValue())
                    .flip();
            while (trailer.hasRemaining()) {
                channel.write(trailer);
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        DirectorySync.fsync(dir);
        return new Snapshot(zxid, target);
    }

    /** The newest snapshot whose framing and checksum verify, reading each candidate in full. */
    public Optional<Snapshot> latestValid() throws IOException {
        for (Snapshot candidate : newestFirst()) {
            if (verify(candidate.file(), candidate.zxid())) {
                return Optional.of(candidate);
            }
            LOG.log(Level.WARNING, "skipping snapshot {0}: checksum or framing does not verify", candidate.file());
        }
        return Optional.empty();
    }

    /** Whether {@code snapshot}'s framing and checksum verify now (reads the whole file). */
    public boolean verifies(Snapshot snapshot) throws IOException {
        return verify(snapshot.file(), snapshot.zxid());
    }

    /**
     * Keeps the newest {@code count} valid snapshots and any newer (corrupt) ones, deleting everything older, so a
     * damaged newest file can never cost the last good snapshot.
     */
    public void retain(int count) throws IOException {
        if (count < 1) {
            throw new IllegalArgumentException("must retain at least one snapshot, not " + count);
        }
        int valid = 0;
        boolean deleted = false;
        for (Snapshot snapshot : newestFirst()) {
            if (valid >= count) {
                Files.delete(snapshot.file());
                deleted = true;
            } else if (verify(snapshot.file(), snapshot.zxid())) {
                valid++;
            }
        }
        if (deleted) {
            DirectorySync.fsync(dir);
        }
    }

    /** Every snapshot file by name, newest first, verified or not. */
    public List<Snapshot> newestFirst() throws IOException {
        TreeMap<Long, Path> found = new TreeMap<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir, FILE_PREFIX + "*")) {
            for (Path file : stream) {
                long zxid = parseFileName(file.getFileName().toString());
                if (zxid >= 0) {
                    found.put(zxid, file);
                }
            }
        }
        List<Snapshot> result = new ArrayList<>();
        found.descendingMap().forEach((zxid, file) -> result.add(new Snapshot(zxid, file)));
        return result;
    }

    static String fileName(long zxid) {
        return ZxidFileNames.name(FILE_PREFIX, zxid);
    }

    static long parseFileName(String name) {
        return ZxidFileNames.parse(FILE_PREFIX, name);
    }

    private static boolean verify(Path file, long zxid) throws IOException {
        long size = Files.size(file);
        if (size < HEADER_BYTES + TRAILER_BYTES) {
            return false;
        }
        long covered = size - TRAILER_BYTES;
        CRC32C crc = new CRC32C();
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES);
        try (InputStream in = Files.newInputStream(file)) {
            byte[] chunk = new byte[64 << 10];
            long remaining = covered;
            while (remaining > 0) {
                int n = in.read(chunk, 0, (int) Math.min(chunk.length, remaining));
                if (n < 0) {
                    return false;
                }
                if (header.hasRemaining()) {
                    header.put(chunk, 0, Math.min(n, header.remaining()));
                }
                crc.update(chunk, 0, n);
                remaining -= n;
            }
            byte[] trailerBytes = in.readNBytes(TRAILER_BYTES);
            if (trailerBytes.length != TRAILER_BYTES) {
                return false;
            }
            ByteBuffer trailer = ByteBuffer.wrap(trailerBytes);
            return header.getInt(0) == MAGIC
                    && header.getInt(4) == FORMAT_VERSION
                    && header.getLong(8) == zxid
                    && trailer.getLong(0) == covered - HEADER_BYTES
                    && trailer.getInt(8) == (int) crc.getValue();
        }
    }

    private static final class CountingOutputStream extends java.io.FilterOutputStream {
        long count;

        CountingOutputStream(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] buffer, int offset, int length) throws IOException {
            out.write(buffer, offset, length);
            count += length;
        }
    }
}
