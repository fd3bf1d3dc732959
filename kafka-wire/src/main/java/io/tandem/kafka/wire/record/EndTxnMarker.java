package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;

/**
 * A transaction marker: a control record whose key says COMMIT or ABORT and whose value is the EndTxnMarker schema,
 * int16 version (0) then int32 coordinatorEpoch.
 */
public record EndTxnMarker(ControlRecordType type, int coordinatorEpoch) {
    public static final short CURRENT_VALUE_VERSION = 0;
    public static final int VALUE_BYTES = 6;

    public EndTxnMarker {
        if (type != ControlRecordType.COMMIT && type != ControlRecordType.ABORT) {
            throw new IllegalArgumentException("a transaction marker is COMMIT or ABORT, not " + type);
        }
    }

    /**
     * Reads the marker from a control record.
     *
     * @throws CorruptRecordException if the record is not a well-formed COMMIT or ABORT marker
     */
    public static EndTxnMarker read(Record record) {
        ControlRecordType type = ControlRecordType.parse(record.key());
        if (type != ControlRecordType.COMMIT && type != ControlRecordType.ABORT) {
            throw new CorruptRecordException("control record of type " + type + " is not a transaction marker");
        }
        ByteBuf value = record.value();
        if (value == null || value.readableBytes() < VALUE_BYTES) {
            throw new CorruptRecordException("transaction marker value must have at least " + VALUE_BYTES + " bytes");
        }
        short version = value.getShort(value.readerIndex());
        if (version < 0) {
            throw new CorruptRecordException("transaction marker has a negative version " + version);
        }
        return new EndTxnMarker(type, value.getInt(value.readerIndex() + 2));
    }

    void writeValue(ByteBuf out) {
        out.writeShort(CURRENT_VALUE_VERSION);
        out.writeInt(coordinatorEpoch);
    }
}
