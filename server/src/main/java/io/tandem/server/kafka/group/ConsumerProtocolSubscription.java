package io.tandem.server.kafka.group;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Reads the topic list out of a "consumer" protocol subscription (ConsumerProtocolSubscription v0-v3: a version
 * short, then an array of topic names; later fields are not needed). Used where Kafka must know what a group
 * subscribes to, e.g. OffsetDelete answering GROUP_SUBSCRIBED_TO_TOPIC.
 */
final class ConsumerProtocolSubscription {
    private ConsumerProtocolSubscription() {
    }

    /** The subscribed topics, or an empty set when the metadata is not a subscription we can read. */
    static Set<String> topics(byte[] metadata) {
        Set<String> topics = new LinkedHashSet<>();
        try {
            ByteBuffer buf = ByteBuffer.wrap(metadata);
            short version = buf.getShort();
            if (version < 0) return topics;
            // Versions 0-3 are not flexible: an int32 count of int16-length strings.
            int count = buf.getInt();
            for (int i = 0; i < count; i++) {
                short length = buf.getShort();
                byte[] name = new byte[length];
                buf.get(name);
                topics.add(new String(name, StandardCharsets.UTF_8));
            }
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            return Set.of();
        }
        return topics;
    }
}
