package io.tandem.server.kafka.group;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The "consumer" protocol assignment carried by SyncGroup (Kafka's ConsumerProtocolAssignment v0-v2, not flexible):
 * AssignedPartitions [Topic string, Partitions [int32]] then UserData (nullable bytes); every version has the same
 * layout. The coordinator writes it itself for classic members of a consumer group (the server assigns there, not a
 * leader) and reads it when a classic group is converted to a consumer group.
 */
public final class ConsumerProtocolAssignment {
    /** The version written: every client reads it, and later versions add nothing to the layout. */
    static final short VERSION = 0;

    private ConsumerProtocolAssignment() {
    }

    /** The assigned partitions by topic; empty bytes are an empty assignment; a malformed one throws. */
    public static Map<String, List<Integer>> parse(byte[] assignment) {
        Map<String, List<Integer>> result = new LinkedHashMap<>();
        if (assignment == null || assignment.length == 0) return result;
        try {
            ByteBuffer buf = ByteBuffer.wrap(assignment);
            short version = buf.getShort();
            if (version < 0) throw new IllegalArgumentException("negative assignment version " + version);
            int topics = ConsumerProtocolSubscription.count(buf);
            for (int i = 0; i < topics; i++) {
                String topic = ConsumerProtocolSubscription.string(buf);
                int partitions = ConsumerProtocolSubscription.count(buf);
                List<Integer> list = result.computeIfAbsent(topic, t -> new ArrayList<>());
                for (int p = 0; p < partitions; p++) list.add(buf.getInt());
            }
            return result;
        } catch (BufferUnderflowException | NegativeArraySizeException e) {
            throw new IllegalArgumentException("truncated consumer protocol assignment", e);
        }
    }

    /** Writes the partitions as a version 0 assignment without user data. */
    public static byte[] serialize(Map<String, ? extends Collection<Integer>> partitions) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeShort(VERSION);
            out.writeInt(partitions.size());
            for (Map.Entry<String, ? extends Collection<Integer>> e : partitions.entrySet()) {
                byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
                out.writeShort(name.length);
                out.write(name);
                out.writeInt(e.getValue().size());
                for (int p : e.getValue()) out.writeInt(p);
            }
            out.writeInt(-1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
