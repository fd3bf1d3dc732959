package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;

/**
 * The type of a control record, stored in its key: int16 version (0), int16 type. Transaction markers (ABORT,
 * COMMIT) are the ones a ZooKeeper-mode broker writes; the KRaft types are listed so they are recognised when read.
 */
public enum ControlRecordType {
    ABORT(0),
    COMMIT(1),
    LEADER_CHANGE(2),
    SNAPSHOT_HEADER(3),
    SNAPSHOT_FOOTER(4),
    KRAFT_VERSION(5),
    KRAFT_VOTERS(6),
    /** A type this version does not know; Kafka's consumers skip such records too. */
    UNKNOWN(-1);

    /** The only control key version Kafka has ever written. */
    public static final short CURRENT_KEY_VERSION = 0;
    public static final int KEY_BYTES = 4;

    public final short type;

    ControlRecordType(int type) {
        this.type = (short) type;
    }

    public static ControlRecordType forType(short type) {
        for (ControlRecordType candidate : values()) {
            if (candidate.type == type && candidate != UNKNOWN) {
                return candidate;
            }
        }
        return UNKNOWN;
    }

    /**
     * Reads the type from a control record's key (its readable bytes).
     *
     * @throws CorruptRecordException if the key is missing, too short or has a negative version
     */
    public static ControlRecordType parse(ByteBuf key) {
        if (key == null || key.readableBytes() < KEY_BYTES) {
            throw new CorruptRecordException("control record key must have at least " + KEY_BYTES + " bytes");
        }
        short version = key.getShort(key.readerIndex());
        if (version < 0) {
            throw new CorruptRecordException("control record key has a negative version " + version);
        }
        return forType(key.getShort(key.readerIndex() + 2));
    }

    void writeKey(ByteBuf out) {
        out.writeShort(CURRENT_KEY_VERSION);
        out.writeShort(type);
    }
}
