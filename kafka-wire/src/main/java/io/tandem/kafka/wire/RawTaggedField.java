package io.tandem.kafka.wire;

import java.util.Arrays;

/** A tagged field the codec does not know, kept as raw bytes so that it survives a decode and re-encode. */
public record RawTaggedField(int tag, byte[] data) {
    public RawTaggedField {
        if (tag < 0) {
            throw new IllegalArgumentException("tag must not be negative: " + tag);
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RawTaggedField that && tag == that.tag && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return 31 * tag + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "RawTaggedField(tag=" + tag + ", " + data.length + " bytes)";
    }
}
