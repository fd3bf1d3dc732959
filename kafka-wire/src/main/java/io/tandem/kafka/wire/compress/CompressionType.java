package io.tandem.kafka.wire.compress;

/**
 * The compression codecs Kafka names in the low three bits of a batch's (or legacy message's) attributes.
 * The ids and names are Kafka's: they appear on the wire and in the {@code compression.type} topic config.
 */
public enum CompressionType {
    NONE(0, "none"),
    GZIP(1, "gzip"),
    SNAPPY(2, "snappy"),
    LZ4(3, "lz4"),
    ZSTD(4, "zstd");

    /** The attribute bits that hold the codec id, in both v2 batches and legacy messages. */
    public static final int ATTRIBUTE_MASK = 0x07;

    private static final CompressionType[] BY_ID = values();

    public final int id;
    public final String configName;

    CompressionType(int id, String configName) {
        this.id = id;
        this.configName = configName;
    }

    /** The codec with this id, or {@code null} for ids 5..7 (which Kafka rejects as corrupt). */
    public static CompressionType forIdOrNull(int id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[id] : null;
    }

    /** The codec named as in Kafka's {@code compression.type} config, or {@code null} if there is none by that name. */
    public static CompressionType forConfigNameOrNull(String name) {
        for (CompressionType type : BY_ID) {
            if (type.configName.equalsIgnoreCase(name)) {
                return type;
            }
        }
        return null;
    }
}
