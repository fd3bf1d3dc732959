package io.tandem.server.kafka.group;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The {@code __consumer_offsets} records of the groups one request changes, held per group until {@link #flush()}
 * appends each group's as one batch, so a restart never finds half of a heartbeat's records. The consumer and the
 * share groups' stores both write through one.
 */
public final class GroupRecordBatches {
    private final BiConsumer<String, List<byte[][]>> appender;
    private final Map<String, List<byte[][]>> pending = new LinkedHashMap<>();

    /** @param appender appends one group's records as one batch on that group's offsets partition */
    public GroupRecordBatches(BiConsumer<String, List<byte[][]>> appender) {
        this.appender = appender;
    }

    /** Holds one record (a null value is a tombstone) for the group's next batch. */
    public void add(String groupId, byte[] key, byte[] value) {
        pending.computeIfAbsent(groupId, g -> new ArrayList<>()).add(new byte[][]{key, value});
    }

    /** Appends what is held, one batch per group in the order the groups were first written. */
    public void flush() {
        if (pending.isEmpty()) return;
        List<Map.Entry<String, List<byte[][]>>> batches = new ArrayList<>(pending.entrySet());
        pending.clear();
        for (Map.Entry<String, List<byte[][]>> e : batches) appender.accept(e.getKey(), e.getValue());
    }
}
