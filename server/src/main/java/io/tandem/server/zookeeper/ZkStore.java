package io.tandem.server.zookeeper;

import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Where the ZooKeeper server keeps its transactions and snapshots: the storage module's TxnLog and SnapshotStore in
 * production ({@link StorageZkStore}), an in-memory one for tests that need no durability.
 */
interface ZkStore extends Closeable {
    @FunctionalInterface
    interface TxnVisitor {
        void accept(long zxid, byte[] txn) throws IOException;
    }

    @FunctionalInterface
    interface SnapshotReader {
        void read(long zxid, DataInputStream in) throws IOException;
    }

    @FunctionalInterface
    interface SnapshotWriter {
        void write(DataOutputStream out) throws IOException;
    }

    /** Reads the newest valid snapshot if there is one; returns its zxid, or 0 when there is none. */
    long readLatestSnapshot(SnapshotReader reader) throws IOException;

    void forEachTxn(long afterZxid, TxnVisitor visitor) throws IOException;

    void append(long zxid, byte[] txn) throws IOException;

    /**
     * Appends the {@code length} bytes of {@code bytes} from {@code offset}, copied before this returns, so the caller
     * may reuse the array for the next transaction.
     */
    default void append(long zxid, byte[] bytes, int offset, int length) throws IOException {
        append(zxid, java.util.Arrays.copyOfRange(bytes, offset, offset + length));
    }

    /** The group-commit point: everything appended so far is durable when this returns. */
    void sync() throws IOException;

    void writeSnapshot(long zxid, SnapshotWriter writer) throws IOException;

    /** The newest snapshot written, as {zxid, last-modified millis}, or null when there is none (the last_snapshot command). */
    default long[] lastSnapshot() throws IOException {
        return null;
    }

    /** Keeps nothing: for tests and embedders that want a throwaway server. */
    static ZkStore inMemory() {
        return new ZkStore() {
            @Override
            public long readLatestSnapshot(SnapshotReader reader) {
                return 0;
            }

            @Override
            public void forEachTxn(long afterZxid, TxnVisitor visitor) {
            }

            @Override
            public void append(long zxid, byte[] txn) {
            }

            @Override
            public void sync() {
            }

            @Override
            public void writeSnapshot(long zxid, SnapshotWriter writer) {
            }

            @Override
            public void close() {
            }
        };
    }
}
