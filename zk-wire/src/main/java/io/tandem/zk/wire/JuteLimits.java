package io.tandem.zk.wire;

/**
 * Size limits of the jute wire format, with Apache ZooKeeper 3.9's defaults.
 *
 * <p>Apache checks two different limits: the server rejects a whole request frame longer than {@code jute.maxbuffer}
 * (NIOServerCnxn and NettyServerCnxn: {@code len < 0 || len > maxBuffer}), while a single buffer or string field inside
 * a record may be as long as {@code jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize} (BinaryInputArchive, where the
 * extra size defaults to jute.maxbuffer itself and is never below 1024). We keep both so that we accept and reject
 * exactly what Apache does.
 */
public final class JuteLimits {
    /** Default of {@code jute.maxbuffer}: 0xfffff bytes, the largest request frame a server accepts. */
    public static final int FRAME_BYTES_MAX_DEFAULT = 0xfffff;

    /** The smallest extra allowance Apache grants a single field beyond jute.maxbuffer. */
    public static final int FIELD_EXTRA_BYTES_MIN = 1024;

    /** Default largest buffer or string field: jute.maxbuffer plus the default extra size (jute.maxbuffer again). */
    public static final int FIELD_BYTES_MAX_DEFAULT = fieldBytesMax(FRAME_BYTES_MAX_DEFAULT, FRAME_BYTES_MAX_DEFAULT);

    /** Bytes of the length prefix in front of every frame. */
    public static final int FRAME_LENGTH_PREFIX_BYTES = 4;

    private JuteLimits() {
    }

    /** The field limit Apache derives from jute.maxbuffer and zookeeper.jute.maxbuffer.extrasize, saturating at int max. */
    public static int fieldBytesMax(int frameBytesMax, int extraBytes) {
        if (frameBytesMax < 0) {
            throw new IllegalArgumentException("jute.maxbuffer must not be negative: " + frameBytesMax);
        }
        long total = (long) frameBytesMax + Math.max(extraBytes, FIELD_EXTRA_BYTES_MIN);
        return (int) Math.min(Integer.MAX_VALUE, total);
    }
}
