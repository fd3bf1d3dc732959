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
    /**
     * Reused for every node digest (commit thread only). Each write adds or takes out two or three of them (the node,
     * and the parent of a created or deleted one); allocating the path's bytes, a copy of the data, a stat buffer and
     * a CRC32 for each came to about 900 bytes and a quarter of the in-memory write path's CPU per write on the C1
     * compiler a ZooKeeper-only node runs (docs/BENCHMARKS.md, "The tree digest's cost").
     */
    private final CRC32 crc = new CRC32();
    private byte[] scratch = new byte[256];

    long value() {
        return sum;
    }

    void reset() {
        sum = 0;
    }

    /** {@code node} joined the tree at {@code path}, or has just been changed there. */
    void add(String path, DataNode node) {
        sum += digestOf(path, node);
    }

    /** {@code node} at {@code path} is about to leave the tree or to change. */
    void remove(String path, DataNode node) {
        sum -= digestOf(path, node);
    }

    /**
     * {@link #nodeDigest} without allocating: an ASCII path is copied into the scratch array (its UTF-8 is the same
     * bytes; any other path goes through the JDK's encoder), the data is read where the node keeps it, then the stat
     * is laid out big-endian in the same array.
     */
    private long digestOf(String path, DataNode node) {
        if (path.startsWith(SYSTEM_PREFIX)) return 0;
        int pathLength = path.equals("/") ? 0 : path.length();
        if (scratch.length < pathLength + DIGEST_STAT_BYTES) {
            scratch = new byte[Math.max(pathLength + DIGEST_STAT_BYTES, scratch.length * 2)];
        }
        byte[] bytes = scratch;
        int ascii = 0;
        while (ascii < pathLength) {
            char c = path.charAt(ascii);
            if (c >= 0x80) break;
            bytes[ascii++] = (byte) c;
        }
        crc.reset();
        if (ascii < pathLength) {
            crc.update(path.getBytes(StandardCharsets.UTF_8));
        } else if (pathLength > 0) {
            crc.update(bytes, 0, pathLength);
        }
        node.digestData(crc);
        int at = putLong(bytes, 0, node.czxid);
        at = putLong(bytes, at, node.mzxid);
        at = putLong(bytes, at, node.pzxid());
        at = putLong(bytes, at, node.ctime);
        at = putLong(bytes, at, node.mtime);
        at = putInt(bytes, at, node.version);
        at = putInt(bytes, at, node.cversion());
        at = putInt(bytes, at, node.aversion);
        at = putLong(bytes, at, node.ephemeralOwner());
        crc.update(bytes, 0, at);
        return crc.getValue();
    }

    private static int putLong(byte[] bytes, int at, long value) {
        at = putInt(bytes, at, (int) (value >>> 32));
        return putInt(bytes, at, (int) value);
    }

    private static int putInt(byte[] bytes, int at, int value) {
        bytes[at] = (byte) (value >>> 24);
        bytes[at + 1] = (byte) (value >>> 16);
        bytes[at + 2] = (byte) (value >>> 8);
        bytes[at + 3] = (byte) value;
        return at + 4;
    }

    /** Apache's DigestCalculator.calculateDigest, as plainly as it reads: the reference {@link #digestOf} keeps. */
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
