package io.tandem.storage.zk.apache;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.Adler32;
import java.util.zip.CheckedInputStream;

/**
 * Reads one of Apache ZooKeeper's snapshot files ({@code FileSnap}, uncompressed):
 * <pre>
 * file    := header body seal [digest seal] [lastZxid seal]
 * header  := magic:int32 "ZKSN"  version:int32 (2)  dbid:int64
 * body    := sessions, ACL cache and nodes in jute (read by the caller through {@link #body()})
 * seal    := checksum:int64  "/":jute string        checksum = Adler32 of every byte before it
 * digest  := zxid:int64  digestVersion:int32  digest:int64      (3.6+, when zookeeper.digest.enabled)
 * lastZxid:= int64                                               (3.9, zookeeper.snapshot.serializeLastZxid)
 * </pre>
 * Big-endian. Which optional sections follow the first seal depends on the writer's settings, so they are told
 * apart by the number of bytes left, not guessed from the reader's own settings.
 */
public final class ApacheSnapshotReader implements Closeable {
    /** "ZKSN", Apache's {@code FileSnap.SNAP_MAGIC}. */
    public static final int MAGIC = 0x5A4B534E;
    public static final int VERSION = 2;
    static final int SEAL_BYTES = 8 + 4 + 1;
    static final int DIGEST_BYTES = 8 + 4 + 8;
    static final int LAST_ZXID_BYTES = 8;

    private final Path file;
    private final long fileBytes;
    private final CountingInputStream counter;
    private final CheckedInputStream checked;
    private final DataInputStream in;
    private final long dbId;

    private ApacheSnapshotReader(Path file, long fileBytes, CountingInputStream counter) throws IOException {
        this.file = file;
        this.fileBytes = fileBytes;
        this.counter = counter;
        this.checked = new CheckedInputStream(counter, new Adler32());
        this.in = new DataInputStream(checked);
        int magic = in.readInt();
        int version = in.readInt();
        if (magic != MAGIC || version != VERSION) {
            throw new IOException(file + " is not an Apache ZooKeeper snapshot (magic 0x" + Integer.toHexString(magic)
                    + ", version " + version + "; expected \"ZKSN\" version " + VERSION + ")");
        }
        this.dbId = in.readLong();
    }

    /** Opens {@code file} and reads its header; compressed snapshots are refused by name. */
    public static ApacheSnapshotReader open(Path file) throws IOException {
        String name = file.getFileName().toString();
        if (name.endsWith(".gz") || name.endsWith(".snappy")) {
            throw new IOException(file + " is a compressed snapshot (zookeeper.snapshot.compression.method), which "
                    + "Tandem does not read: restart Apache once with compression off so it writes a plain one");
        }
        long bytes = Files.size(file);
        CountingInputStream counter = new CountingInputStream(
                new BufferedInputStream(Files.newInputStream(file), 64 << 10));
        try {
            return new ApacheSnapshotReader(file, bytes, counter);
        } catch (IOException | RuntimeException e) {
            counter.close();
            throw e;
        }
    }

    public long dbId() {
        return dbId;
    }

    /** The jute-encoded body, checksummed as it is read. */
    public DataInputStream body() {
        return in;
    }

    /** Reads a jute string (int32 length, -1 for null, then UTF-8) of at most {@code bytesMax} bytes. */
    public String readString(int bytesMax) throws IOException {
        byte[] bytes = readBuffer(bytesMax);
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** Reads a jute buffer (int32 length, -1 for null, then the bytes) of at most {@code bytesMax} bytes. */
    public byte[] readBuffer(int bytesMax) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            return null;
        }
        if (length > bytesMax) {
            throw new IOException(file + " is damaged: a field of " + length + " bytes at byte " + counter.count
                    + " exceeds the limit of " + bytesMax);
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }

    /**
     * Checks the seal after the body and reads the optional sections after it; returns the last processed zxid the
     * snapshot records, or -1 when it records none (then the file name's zxid is where replay starts).
     */
    public long finish() throws IOException {
        checkSeal();
        long left = fileBytes - counter.count;
        boolean digest = left == DIGEST_BYTES + SEAL_BYTES || left == DIGEST_BYTES + LAST_ZXID_BYTES + 2 * SEAL_BYTES;
        boolean lastZxid = left == LAST_ZXID_BYTES + SEAL_BYTES || left == DIGEST_BYTES + LAST_ZXID_BYTES + 2 * SEAL_BYTES;
        if (left != 0 && !digest && !lastZxid) {
            throw new IOException(file + " is damaged: " + left + " unexpected bytes after the tree's checksum");
        }
        if (digest) {
            in.readLong();
            in.readInt();
            in.readLong();
            checkSeal();
        }
        long last = -1;
        if (lastZxid) {
            last = in.readLong();
            checkSeal();
        }
        return last;
    }

    private void checkSeal() throws IOException {
        long expected = checked.getChecksum().getValue();
        long actual = in.readLong();
        String slash = readString(1);
        if (actual != expected || !"/".equals(slash)) {
            throw new IOException(file + " is damaged: checksum mismatch at byte " + counter.count + " (stored 0x"
                    + Long.toHexString(actual) + ", computed 0x" + Long.toHexString(expected) + ")");
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }

    /** Counts the bytes read below the checksum, to tell how much of the file is left. */
    private static final class CountingInputStream extends java.io.FilterInputStream {
        long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] bytes, int offset, int length) throws IOException {
            int n = super.read(bytes, offset, length);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            count += skipped;
            return skipped;
        }
    }
}
