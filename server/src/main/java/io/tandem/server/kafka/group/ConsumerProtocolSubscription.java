package io.tandem.server.kafka.group;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The "consumer" protocol subscription a classic member embeds in JoinGroup (Kafka's ConsumerProtocolSubscription
 * v0-v3, not flexible): Topics [string] and UserData (nullable bytes) from v0, OwnedPartitions [Topic, [int32]] from
 * v1, GenerationId from v2, RackId (nullable string) from v3. A newer version is read with the v3 layout, as Kafka's
 * client does (later versions only append fields). Used where Kafka must know what a classic member subscribes to:
 * OffsetDelete answering GROUP_SUBSCRIBED_TO_TOPIC, and classic members inside a consumer group (KIP-848 migration).
 *
 * @param topics          the subscribed topics
 * @param ownedPartitions the partitions the member says it owns, by topic (empty before v1)
 * @param rackId          the member's rack, or null
 */
public record ConsumerProtocolSubscription(List<String> topics, Map<String, List<Integer>> ownedPartitions,
                                           String rackId) {
    /**
     * Parses a subscription; a malformed one throws IllegalArgumentException.
     */
    public static ConsumerProtocolSubscription parse(byte[] metadata) {
        try {
            ByteBuffer buf = ByteBuffer.wrap(metadata);
            short version = buf.getShort();
            if (version < 0) throw new IllegalArgumentException("negative subscription version " + version);
            Set<String> topics = new LinkedHashSet<>();
            int count = count(buf);
            for (int i = 0; i < count; i++) topics.add(string(buf));
            int userData = buf.getInt();
            if (userData > 0) skip(buf, userData);
            Map<String, List<Integer>> owned = new LinkedHashMap<>();
            String rack = null;
            if (version >= 1) {
                int topicCount = count(buf);
                for (int i = 0; i < topicCount; i++) {
                    String topic = string(buf);
                    int partitions = count(buf);
                    List<Integer> list = owned.computeIfAbsent(topic, t -> new ArrayList<>());
                    for (int p = 0; p < partitions; p++) list.add(buf.getInt());
                }
            }
            if (version >= 2) buf.getInt();
            if (version >= 3) {
                short length = buf.getShort();
                if (length >= 0) {
                    byte[] bytes = new byte[length];
                    buf.get(bytes);
                    rack = new String(bytes, StandardCharsets.UTF_8);
                }
            }
            return new ConsumerProtocolSubscription(List.copyOf(topics), owned, rack);
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException("truncated consumer protocol subscription", e);
        }
    }

    /**
     * The subscribed topics, or an empty set when the metadata is not a subscription we can read. Only the version and
     * the topic list are read, so a subscription cut short after its topics still names them.
     */
    static Set<String> topics(byte[] metadata) {
        Set<String> topics = new LinkedHashSet<>();
        try {
            ByteBuffer buf = ByteBuffer.wrap(metadata);
            if (buf.getShort() < 0) return topics;
            int count = count(buf);
            for (int i = 0; i < count; i++) topics.add(string(buf));
        } catch (BufferUnderflowException | NegativeArraySizeException | IllegalArgumentException e) {
            return Set.of();
        }
        return topics;
    }

    static int count(ByteBuffer buf) {
        int count = buf.getInt();
        // -1 is a null array (none); more entries than bytes left cannot be real.
        if (count < 0) return 0;
        if (count > buf.remaining()) throw new IllegalArgumentException("array of " + count + " entries in "
                + buf.remaining() + " bytes");
        return count;
    }

    static String string(ByteBuffer buf) {
        short length = buf.getShort();
        if (length < 0) throw new IllegalArgumentException("null topic name");
        byte[] bytes = new byte[length];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void skip(ByteBuffer buf, int bytes) {
        if (bytes > buf.remaining()) throw new BufferUnderflowException();
        buf.position(buf.position() + bytes);
    }
}
