package io.tandem.storage.zk;

import java.io.DataOutputStream;
import java.io.IOException;

/**
 * Writes the body of a snapshot. The serialization of the tree belongs to the ZooKeeper server; the
 * {@link SnapshotStore} only frames, checksums and files what this writes.
 */
@FunctionalInterface
public interface SnapshotBody {
    void writeTo(DataOutputStream out) throws IOException;
}
