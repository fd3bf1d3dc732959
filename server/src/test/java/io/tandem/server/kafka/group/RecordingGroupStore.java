package io.tandem.server.kafka.group;

import static io.tandem.server.kafka.ErrorCodes.NONE;

import io.tandem.server.kafka.TopicPartition;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * A {@link GroupStore} that appends what a classic coordinator writes, as Kafka's key/value bytes, to a list standing
 * for the offsets partition (oldest first; a null value is a tombstone), so a test can replay it into another
 * coordinator as a broker taking the lead would.
 */
public final class RecordingGroupStore implements GroupStore {
    private final List<byte[][]> log;
    private volatile short storeError = NONE;

    public RecordingGroupStore(List<byte[][]> log) {
        this.log = log;
    }

    /** From now on a group record is not written and its write answers {@code error} (NONE: written again). */
    public void failGroupStores(short error) {
        storeError = error;
    }

    @Override public void offsetsCommitted(String g, Map<TopicPartition, CommittedOffset> offsets) {
        offsets.forEach((tp, o) -> log.add(new byte[][]{OffsetsTopicCodec.offsetKey(g, tp),
                OffsetsTopicCodec.offsetValue(o)}));
    }

    @Override public void offsetsDeleted(String g, Collection<TopicPartition> partitions) {
        partitions.forEach(tp -> log.add(new byte[][]{OffsetsTopicCodec.offsetKey(g, tp), null}));
    }

    @Override public void groupDeleted(String g, Collection<TopicPartition> offsets) {
        offsetsDeleted(g, offsets);
        groupRecordDeleted(g);
    }

    @Override public short groupStored(String g, GroupMetadataCodec.StoredGroup group) {
        if (storeError != NONE) return storeError;
        log.add(new byte[][]{OffsetsTopicCodec.groupKey(g), GroupMetadataCodec.encode(group)});
        return NONE;
    }

    @Override public void groupRecordDeleted(String g) {
        log.add(new byte[][]{OffsetsTopicCodec.groupKey(g), null});
    }

    @Override public short transactionalOffsetsCommitted(String g, long producerId, short epoch,
                                                         Map<TopicPartition, CommittedOffset> offsets) {
        return NONE;
    }
}
