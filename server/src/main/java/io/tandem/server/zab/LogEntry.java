package io.tandem.server.zab;

import java.util.Arrays;

/**
 * One transaction in the replicated log. The bytes are opaque to Zab (for the ZooKeeper server they are the jute
 * TxnHeader and txn record), so the same machine replicates anything.
 */
public record LogEntry(long zxid, byte[] txn) {
    public LogEntry {
        Checks.require(zxid > 0, "zxid must be positive: %d", zxid);
        Checks.require(txn != null, "txn bytes must not be null");
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LogEntry that && zxid == that.zxid && Arrays.equals(txn, that.txn);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(zxid) * 31 + Arrays.hashCode(txn);
    }

    @Override
    public String toString() {
        return "LogEntry[" + Zxid.toString(zxid) + ", " + txn.length + " bytes]";
    }
}
