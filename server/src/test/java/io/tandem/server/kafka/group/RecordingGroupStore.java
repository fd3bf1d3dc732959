package io.tandem.server.kafka.group;

import static io.tandem.server.kafka.ErrorCodes.NONE;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.VerificationGuard;
import java.util.ArrayList;
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
    /** Writes whose replication the test holds back, oldest first; null when replicated at once. */
    private List<Written> held;

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

    @Override public void groupStored(String g, GroupMetadataCodec.StoredGroup group, long nowMs, Written written) {
        if (storeError != NONE) {
            written.done(storeError, nowMs);
            return;
        }
        log.add(new byte[][]{OffsetsTopicCodec.groupKey(g), GroupMetadataCodec.encode(group)});
        if (held != null) {
            held.add(written);
        } else {
            written.done(NONE, nowMs);
        }
    }

    @Override public void whenWritten(String g, long nowMs, Written written) {
        written.done(storeError, nowMs);
    }

    /**
     * From now on a written group record is not yet replicated: whoever waits for it waits until {@link #replicate}
     * (or {@link #loseHeld}).
     */
    public void holdReplication() {
        held = new ArrayList<>();
    }

    /** The held records reach the in-sync replicas at {@code nowMs}; later ones are replicated at once again. */
    public void replicate(long nowMs) {
        completeHeld(NONE, nowMs);
    }

    /** The held records are not replicated in time or are lost with the partition's leadership: {@code error}. */
    public void loseHeld(short error, long nowMs) {
        completeHeld(error, nowMs);
    }

    private void completeHeld(short error, long nowMs) {
        List<Written> waiting = held;
        held = null;
        for (Written w : waiting) w.done(error, nowMs);
    }

    @Override public void groupRecordDeleted(String g) {
        log.add(new byte[][]{OffsetsTopicCodec.groupKey(g), null});
    }

    @Override public short transactionalOffsetsCommitted(String g, long producerId, short epoch,
                                                         Map<TopicPartition, CommittedOffset> offsets,
                VerificationGuard guard) {
        return NONE;
    }
}
