package io.tandem.server.zookeeper;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * Apache 3.9's tree digest (DigestCalculator, kept by its NodeHashMapImpl): the sum of every node's digest, updated as
 * each change is applied (the node's old digest taken out before, its new one added after), so the {@code hash} admin
 * command reads a number instead of walking the tree on the commit thread. A node's digest is the CRC32 of its path
 * (the root's is hashed as ""), its data and its persisted stat; nodes under /zookeeper/ count 0, as in Apache.
 * Commit thread only, like the tree.
 */
final class TreeDigest {
    /** {@code DigestCalculator.DIGEST_VERSION} of 3.9. */
    static final int DIGEST_VERSION = 2;
    /** Apache leaves ZooKeeper's own subtree (quota, config) out of the digest. */
    private static final String SYSTEM_PREFIX = "/zookeeper/";
    /** The stat fields Apache's digest covers, in its order: five longs, three ints, one long. */
    private static final int DIGEST_STAT_BYTES = 60;

    private long sum;

    long value() {
        return sum;
    }

    void reset() {
        sum = 0;
    }

    /** {@code node} joined the tree at {@code path}, or has just been changed there. */
    void add(String path, DataNode node) {
        sum += nodeDigest(path, node);
    }

    /** {@code node} at {@code path} is about to leave the tree or to change. */
    void remove(String path, DataNode node) {
        sum -= nodeDigest(path, node);
    }

    /** Apache's DigestCalculator.calculateDigest. */
    static long nodeDigest(String path, DataNode node) {
        if (path.startsWith(SYSTEM_PREFIX)) return 0;
        String hashed = path.equals("/") || path.isEmpty() ? "" : path;
        ByteBuffer stat = ByteBuffer.allocate(DIGEST_STAT_BYTES);
        stat.putLong(node.czxid).putLong(node.mzxid).putLong(node.pzxid()).putLong(node.ctime).putLong(node.mtime)
                .putInt(node.version).putInt(node.cversion()).putInt(node.aversion).putLong(node.ephemeralOwner());
        CRC32 crc = new CRC32();
        crc.update(hashed.getBytes(StandardCharsets.UTF_8));
        byte[] data = node.data();
        if (data != null) crc.update(data);
        crc.update(stat.array());
        return crc.getValue();
    }
}
