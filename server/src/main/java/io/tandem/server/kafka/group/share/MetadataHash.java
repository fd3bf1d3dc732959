package io.tandem.server.kafka.group.share;

import com.dynatrace.hash4j.hashing.HashStream64;
import com.dynatrace.hash4j.hashing.Hashing;
import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeMap;

/**
 * Kafka's metadata hash of a group's subscribed topics (KIP-1101; group-coordinator's Utils.computeTopicHash and
 * computeGroupHash), written in ShareGroupMetadata, so a Kafka coordinator loading Tandem's records finds the hash it
 * would compute and sees no topic change. A topic's hash is XXH3-64 over a magic byte 0, its id, name and partition
 * count, then per partition its index and its replicas' racks (sorted, each as length and string); the group's is
 * XXH3-64 over the topics' hashes in topic name order, 0 when no subscribed topic exists.
 */
final class MetadataHash {
    private static final byte TOPIC_HASH_MAGIC_BYTE = 0;

    private MetadataHash() {
    }

    static long topicHash(TopicRef topic, TopicsView topics) {
        HashStream64 hash = Hashing.xxh3_64().hashStream()
                .putByte(TOPIC_HASH_MAGIC_BYTE)
                .putLong(topic.id().getMostSignificantBits())
                .putLong(topic.id().getLeastSignificantBits())
                .putString(topic.name())
                .putInt(topic.partitionCount());
        for (int p = 0; p < topic.partitionCount(); p++) {
            hash.putInt(p);
            List<String> racks = new ArrayList<>(topics.partitionRacks(topic.name(), p));
            racks.sort(null);
            for (String rack : racks) hash.putInt(rack.length()).putString(rack);
        }
        return hash.getAsLong();
    }

    /** The hash of the existing topics among {@code subscribed}. */
    static long groupHash(Collection<String> subscribed, TopicsView topics) {
        TreeMap<String, Long> hashes = new TreeMap<>();
        for (String name : subscribed) {
            TopicRef topic = topics.byName(name);
            if (topic != null) hashes.put(name, topicHash(topic, topics));
        }
        if (hashes.isEmpty()) return 0;
        HashStream64 hash = Hashing.xxh3_64().hashStream();
        for (long topicHash : hashes.values()) hash.putLong(topicHash);
        return hash.getAsLong();
    }
}
