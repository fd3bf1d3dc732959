package io.tandem.storage.zk;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A snapshot file whose checksum verified when it was found. {@link #open} streams exactly the body that was
 * written.
 */
public record Snapshot(long zxid, Path file) {

    /** The size of the body, what {@link #open} yields. */
    public long bodyBytes() throws IOException {
        long bodyBytes = Files.size(file) - SnapshotStore.HEADER_BYTES - SnapshotStore.TRAILER_BYTES;
        if (bodyBytes < 0) {
            throw new IOException("snapshot " + file + " is shorter than its framing");
        }
        return bodyBytes;
    }

    /** Opens the body for reading; the caller closes the stream. */
    public DataInputStream open() throws IOException {
        long bodyBytes = bodyBytes();
        InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 << 10);
        try {
            in.skipNBytes(SnapshotStore.HEADER_BYTES);
        } catch (IOException e) {
            in.close();
            throw e;
        }
        return new DataInputStream(new BoundedInputStream(in, bodyBytes));
    }

    /** Ends the stream where the body ends, so readers never see the trailer. */
    private static final class BoundedInputStream extends FilterInputStream {
        private long remaining;

        BoundedInputStream(InputStream in, long remaining) {
            super(in);
            this.remaining = remaining;
        }

        @Override
        public int read() throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int b = super.read();
            if (b >= 0) {
                remaining--;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (remaining <= 0) {
                return -1;
            }
            int n = super.read(buffer, offset, (int) Math.min(length, remaining));
            if (n > 0) {
                remaining -= n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(Math.min(n, remaining));
            remaining -= skipped;
            return skipped;
        }

        @Override
        public int available() throws IOException {
            return (int) Math.min(super.available(), remaining);
        }

        @Override
        public boolean markSupported() {
            return false;
        }
    }
}
