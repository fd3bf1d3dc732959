package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.GroupMessages.Protocol;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.UUID;

/**
 * The consumer group records of {@code __consumer_offsets} in Kafka 4.x's format, so the topic reads the same with
 * Kafka's tools and a Kafka broker: the key starts with its record type as the key version (3 ConsumerGroupMetadata,
 * 5 ConsumerGroupMemberMetadata, 6 ConsumerGroupTargetAssignmentMetadata, 7 ConsumerGroupTargetAssignmentMember,
 * 8 ConsumerGroupCurrentMemberAssignment) followed by the group id (and member id) as int16-length strings; the value
 * is version 0 of the matching flexible value (compact strings and arrays, empty tagged fields); a null value is a
 * tombstone. Type 4 (subscription metadata) is not written: Kafka 4.x no longer writes it either.
 */
public final class ConsumerGroupRecords {
    public static final short GROUP_METADATA = 3;
    public static final short MEMBER_METADATA = 5;
    public static final short TARGET_ASSIGNMENT_METADATA = 6;
    public static final short TARGET_ASSIGNMENT_MEMBER = 7;
    public static final short CURRENT_MEMBER_ASSIGNMENT = 8;
    private static final short VALUE_VERSION = 0;
    /** ConsumerGroupMemberMetadataValue's tagged ClassicMemberMetadata. */
    private static final int CLASSIC_MEMBER_METADATA_TAG = 0;

    private ConsumerGroupRecords() {
    }

    /** Whether a key version is one of the consumer group records this codec reads. */
    public static boolean isConsumerGroupRecord(short keyVersion) {
        return keyVersion == GROUP_METADATA || keyVersion == MEMBER_METADATA || keyVersion == TARGET_ASSIGNMENT_METADATA
                || keyVersion == TARGET_ASSIGNMENT_MEMBER || keyVersion == CURRENT_MEMBER_ASSIGNMENT;
    }

    // ---------------------------------------------------------------- keys

    public static byte[] key(short type, String groupId, String memberId) {
        byte[] group = groupId.getBytes(StandardCharsets.UTF_8);
        byte[] member = memberId == null ? null : memberId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(2 + 2 + group.length + (member == null ? 0 : 2 + member.length));
        buf.putShort(type).putShort((short) group.length).put(group);
        if (member != null) buf.putShort((short) member.length).put(member);
        return buf.array();
    }

    /** A decoded key: the record type, the group, and the member for member records (else null). */
    public record Key(short type, String groupId, String memberId) {
    }

    public static Key readKey(byte[] key) {
        ByteBuffer buf = ByteBuffer.wrap(key);
        short type = buf.getShort();
        String group = readString(buf);
        String member = type == GROUP_METADATA || type == TARGET_ASSIGNMENT_METADATA ? null : readString(buf);
        return new Key(type, group, member);
    }

    private static String readString(ByteBuffer buf) {
        byte[] bytes = new byte[buf.getShort()];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- values

    /** ConsumerGroupMetadataValue: the group epoch (and ConsumerGroupTargetAssignmentMetadataValue: its epoch). */
    public static byte[] epochValue(int epoch) {
        Writer w = new Writer();
        w.int32(epoch);
        return w.done();
    }

    public static byte[] memberMetadataValue(ConsumerGroupMember m) {
        Writer w = new Writer();
        w.compactString(m.instanceId);
        w.compactString(m.rackId);
        w.compactString(m.clientId == null ? "" : m.clientId);
        w.compactString(m.clientHost == null ? "" : m.clientHost);
        w.uvarint(m.subscribedTopicNames.size() + 1);
        for (String name : m.subscribedTopicNames) w.compactString(name);
        w.compactString(m.subscribedTopicRegex);
        w.int32(m.rebalanceTimeoutMs);
        w.compactString(m.serverAssignor);
        if (m.classic == null) return w.done();
        // ClassicMemberMetadata, tagged field 0 (absent for a consumer-protocol member): a migrating group's classic
        // member comes back as one after a restart.
        Writer c = new Writer(false);
        // A nullable struct starts with its presence byte (1; -1 would be null).
        c.out.write(1);
        c.int32(m.classic.sessionTimeoutMs());
        c.uvarint(m.classic.protocols().size() + 1);
        for (Protocol p : m.classic.protocols()) {
            c.compactString(p.name());
            c.uvarint(p.metadata().length + 1);
            c.out.writeBytes(p.metadata());
            c.uvarint(0);
        }
        byte[] classic = c.done();
        w.uvarint(1);
        w.uvarint(CLASSIC_MEMBER_METADATA_TAG);
        w.uvarint(classic.length);
        w.out.writeBytes(classic);
        return w.out.toByteArray();
    }

    public static byte[] targetAssignmentValue(Assignment target) {
        Writer w = new Writer();
        w.assignment(target);
        return w.done();
    }

    public static byte[] currentAssignmentValue(ConsumerGroupMember m) {
        Writer w = new Writer();
        w.int32(m.memberEpoch);
        w.int32(m.previousMemberEpoch);
        w.out.write(m.state.ordinal());
        w.assignment(m.assigned);
        w.assignment(m.pendingRevocation);
        return w.done();
    }

    /** Reads an epoch value (types 3 and 6). */
    public static int readEpoch(byte[] value) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        buf.getShort();
        return buf.getInt();
    }

    /** Reads a ConsumerGroupMemberMetadataValue into {@code m}. */
    public static void readMemberMetadata(byte[] value, ConsumerGroupMember m) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        buf.getShort();
        m.instanceId = readCompactString(buf);
        m.rackId = readCompactString(buf);
        m.clientId = readCompactString(buf);
        m.clientHost = readCompactString(buf);
        int n = readUvarint(buf) - 1;
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) names.add(readCompactString(buf));
        m.subscribedTopicNames = List.copyOf(names);
        String regex = readCompactString(buf);
        // Kafka writes "" for a member without a regular expression.
        m.subscribedTopicRegex = regex == null || regex.isEmpty() ? null : regex;
        m.rebalanceTimeoutMs = buf.getInt();
        m.serverAssignor = readCompactString(buf);
        m.classic = null;
        int tagged = readUvarint(buf);
        for (int i = 0; i < tagged; i++) {
            int tag = readUvarint(buf);
            int size = readUvarint(buf);
            if (tag != CLASSIC_MEMBER_METADATA_TAG) {
                buf.position(buf.position() + size);
                continue;
            }
            if (buf.get() < 0) continue;
            int sessionTimeoutMs = buf.getInt();
            int count = readUvarint(buf) - 1;
            List<Protocol> protocols = new ArrayList<>();
            for (int p = 0; p < count; p++) {
                String name = readCompactString(buf);
                byte[] metadata = new byte[readUvarint(buf) - 1];
                buf.get(metadata);
                skipTaggedFields(buf);
                protocols.add(new Protocol(name, metadata));
            }
            skipTaggedFields(buf);
            m.classic = protocols.isEmpty() ? null : new ConsumerGroupMember.ClassicMetadata(sessionTimeoutMs, protocols);
        }
    }

    public static Assignment readTargetAssignment(byte[] value) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        buf.getShort();
        return readAssignment(buf);
    }

    /** Reads a ConsumerGroupCurrentMemberAssignmentValue into {@code m}. */
    public static void readCurrentAssignment(byte[] value, ConsumerGroupMember m) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        buf.getShort();
        m.memberEpoch = buf.getInt();
        m.previousMemberEpoch = buf.getInt();
        int state = buf.get();
        MemberState[] states = MemberState.values();
        if (state < 0 || state >= states.length) {
            throw new IllegalArgumentException("unknown member state " + state + " of member " + m.memberId);
        }
        m.state = states[state];
        m.assigned = readAssignment(buf);
        m.pendingRevocation = readAssignment(buf);
    }

    private static Assignment readAssignment(ByteBuffer buf) {
        Assignment.Builder b = new Assignment.Builder();
        int topics = readUvarint(buf) - 1;
        for (int i = 0; i < topics; i++) {
            UUID id = new UUID(buf.getLong(), buf.getLong());
            int partitions = readUvarint(buf) - 1;
            for (int p = 0; p < partitions; p++) b.add(id, buf.getInt());
            skipTaggedFields(buf);
        }
        return b.build();
    }

    private static void skipTaggedFields(ByteBuffer buf) {
        int count = readUvarint(buf);
        for (int i = 0; i < count; i++) {
            readUvarint(buf);
            int size = readUvarint(buf);
            buf.position(buf.position() + size);
        }
    }

    private static String readCompactString(ByteBuffer buf) {
        int lengthPlusOne = readUvarint(buf);
        if (lengthPlusOne == 0) return null;
        byte[] bytes = new byte[lengthPlusOne - 1];
        buf.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static int readUvarint(ByteBuffer buf) {
        int value = 0;
        for (int shift = 0; shift < 32; shift += 7) {
            byte b = buf.get();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new IllegalArgumentException("varint longer than 5 bytes");
    }

    /** Writes the version, the fields, and (on done) the empty tagged fields of a flexible value. */
    private static final class Writer {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Writer() {
            this(true);
        }

        /** A value starts with its version; a struct nested in a tagged field does not. */
        Writer(boolean versioned) {
            if (versioned) int16(VALUE_VERSION);
        }

        void int16(int v) {
            out.write(v >>> 8);
            out.write(v);
        }

        void int32(int v) {
            int16(v >>> 16);
            int16(v & 0xffff);
        }

        void int64(long v) {
            int32((int) (v >>> 32));
            int32((int) v);
        }

        void uvarint(int v) {
            while ((v & ~0x7f) != 0) {
                out.write((v & 0x7f) | 0x80);
                v >>>= 7;
            }
            out.write(v);
        }

        void compactString(String s) {
            if (s == null) {
                uvarint(0);
                return;
            }
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            uvarint(bytes.length + 1);
            out.writeBytes(bytes);
        }

        void assignment(Assignment a) {
            uvarint(a.partitions().size() + 1);
            for (Map.Entry<UUID, SortedSet<Integer>> e : a.partitions().entrySet()) {
                int64(e.getKey().getMostSignificantBits());
                int64(e.getKey().getLeastSignificantBits());
                uvarint(e.getValue().size() + 1);
                for (int p : e.getValue()) int32(p);
                uvarint(0);
            }
        }

        byte[] done() {
            uvarint(0);
            return out.toByteArray();
        }
    }
}
