package io.tandem.kafka.client;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the member assignment of the "consumer" protocol (Kafka's ConsumerProtocolAssignment, versions 0-3, none of
 * them flexible): int16 version, then [topic string, [int32 partition]], then nullable user data.
 */
public final class ConsumerProtocol {
    private ConsumerProtocol() {
    }

    /**
     * The partitions assigned in {@code assignment}; empty for a null or empty assignment (a member that has not synced
     * yet). Bytes that do not parse as the consumer protocol also give an empty list: a describe must not fail because
     * one client put something odd there.
     */
    public static List<TopicPartition> assignedPartitions(byte[] assignment) {
        if (assignment == null || assignment.length < 2) {
            return List.of();
        }
        ByteBuf in = Unpooled.wrappedBuffer(assignment);
        List<TopicPartition> partitions = new ArrayList<>();
        try {
            in.readShort();
            int topics = in.readInt();
            for (int t = 0; t < topics; t++) {
                int nameLength = in.readShort();
                if (nameLength < 0 || nameLength > in.readableBytes()) {
                    return List.of();
                }
                String topic = in.readCharSequence(nameLength, StandardCharsets.UTF_8).toString();
                int count = in.readInt();
                if (count < 0 || (long) count * Integer.BYTES > in.readableBytes()) {
                    return List.of();
                }
                for (int p = 0; p < count; p++) {
                    partitions.add(new TopicPartition(topic, in.readInt()));
                }
            }
        } catch (IndexOutOfBoundsException e) {
            return List.of();
        }
        partitions.sort(null);
        return List.copyOf(partitions);
    }
}
