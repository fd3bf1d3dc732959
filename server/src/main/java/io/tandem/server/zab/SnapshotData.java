package io.tandem.server.zab;

import io.tandem.storage.zk.Snapshot;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Arrays;

/**
 * An application snapshot's bytes as Zab passes them around without holding them: a leader keeps one to bring
 * far-behind followers up to date, and a tree of a million znodes serializes to hundreds of MB, so production keeps it
 * in its file ({@link #of(Snapshot)}) and streams it on demand ({@link QuorumTransport} sends it in bounded chunks, the
 * application reads it as a stream). The simulator and unit tests use {@link #of(byte[])}.
 */
public interface SnapshotData {
    /** The number of bytes {@link #open} yields. */
    long size();

    /** A fresh stream over the bytes; the caller closes it. */
    InputStream open() throws IOException;

    /** The holder is done with these bytes: a snapshot received into a temporary file deletes it. */
    default void release() {
    }

    /** Every byte in memory: for tests and small snapshots only. */
    default byte[] readAllBytes() throws IOException {
        try (InputStream in = open()) {
            return in.readAllBytes();
        }
    }

    static SnapshotData of(byte[] bytes) {
        return new InMemory(bytes.clone());
    }

    /** The body of a verified snapshot file; the file must stay until the last reader has opened it. */
    static SnapshotData of(Snapshot snapshot) throws IOException {
        long size = snapshot.bodyBytes();
        return new SnapshotData() {
            @Override
            public long size() {
                return size;
            }

            @Override
            public InputStream open() throws IOException {
                return snapshot.open();
            }

            @Override
            public String toString() {
                return snapshot.file() + " (" + size + " bytes)";
            }
        };
    }

    /** Bytes held in memory; equal when their bytes are (the simulator compares snapshots). */
    final class InMemory implements SnapshotData {
        private final byte[] bytes;

        private InMemory(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public long size() {
            return bytes.length;
        }

        @Override
        public InputStream open() {
            return new ByteArrayInputStream(bytes);
        }

        @Override
        public byte[] readAllBytes() {
            return bytes.clone();
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof InMemory that && Arrays.equals(bytes, that.bytes);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(bytes);
        }

        @Override
        public String toString() {
            return bytes.length + " bytes";
        }
    }
}
