package io.tandem.server.kafka.group;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The value of a classic group's record in {@code __consumer_offsets} (key: GroupMetadataKey v2), Kafka's
 * GroupMetadataValue v0-v4 with the version prefix: protocol type, generation, protocol, leader, current state
 * timestamp (v2+) and every member (member id, group instance id (v3+), client id and host, rebalance timeout (v1+),
 * session timeout, the subscription of the group's protocol and the assignment). Kafka 3.9 (inter-broker protocol
 * 2.3 and later) and 4.x both write v3, so {@link #encode(StoredGroup)} does; every version reads, v4 being the
 * flexible one (compact strings, arrays and bytes, tagged fields, skipped when unknown).
 */
public final class GroupMetadataCodec {
    /** The version Kafka 3.9 and 4.x write (GroupMetadataManager.groupMetadataValue, newGroupMetadataRecord). */
    static final short WRITTEN_VERSION = 3;
    static final short HIGHEST_VERSION = 4;

    private GroupMetadataCodec() {
    }

    /**
     * A classic group as stored: {@code protocolType} "" for none (as Kafka writes it), {@code protocol} and
     * {@code leader} null for an empty group, {@code currentStateTimestamp} -1 when unknown.
     */
    public record StoredGroup(String protocolType, int generation, String protocol, String leader,
                              long currentStateTimestamp, List<StoredMember> members) {
        public StoredGroup {
            members = List.copyOf(members);
        }
    }

    /** One member as stored: its subscription for the group's protocol and its assignment of that generation. */
    public record StoredMember(String memberId, String groupInstanceId, String clientId, String clientHost,
                               int rebalanceTimeoutMs, int sessionTimeoutMs, byte[] subscription, byte[] assignment) {
    }

    public static byte[] encode(StoredGroup group) {
        return encode(group, WRITTEN_VERSION);
    }

    /** The value at {@code version}; fields a version lacks are left out, as Kafka's ignorable fields are. */
    static byte[] encode(StoredGroup group, short version) {
        if (version < 0 || version > HIGHEST_VERSION) {
            throw new IllegalArgumentException("GroupMetadataValue has no version " + version);
        }
        boolean flexible = version >= 4;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        DataOutputStream out = new DataOutputStream(bytes);
        try {
            out.writeShort(version);
            writeString(out, group.protocolType(), false, flexible);
            out.writeInt(group.generation());
            writeString(out, group.protocol(), true, flexible);
            writeString(out, group.leader(), true, flexible);
            if (version >= 2) out.writeLong(group.currentStateTimestamp());
            writeLength(out, group.members().size(), flexible);
            for (StoredMember m : group.members()) {
                writeString(out, m.memberId(), false, flexible);
                if (version >= 3) writeString(out, m.groupInstanceId(), true, flexible);
                writeString(out, m.clientId(), false, flexible);
                writeString(out, m.clientHost(), false, flexible);
                if (version >= 1) out.writeInt(m.rebalanceTimeoutMs());
                out.writeInt(m.sessionTimeoutMs());
                writeBytes(out, m.subscription(), flexible);
                writeBytes(out, m.assignment(), flexible);
                if (flexible) writeUnsignedVarint(out, 0);
            }
            if (flexible) writeUnsignedVarint(out, 0);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Reads a value of any version Kafka defines; a v0 member's rebalance timeout is its session timeout, as in Kafka. */
    public static StoredGroup decode(byte[] value) {
        ByteBuffer buf = ByteBuffer.wrap(value);
        short version = buf.getShort();
        if (version < 0 || version > HIGHEST_VERSION) {
            throw new IllegalArgumentException("unknown GroupMetadataValue version " + version);
        }
        boolean flexible = version >= 4;
        String protocolType = readString(buf, flexible);
        int generation = buf.getInt();
        String protocol = readString(buf, flexible);
        String leader = readString(buf, flexible);
        long currentStateTimestamp = version >= 2 ? buf.getLong() : -1;
        int count = readLength(buf, flexible);
        List<StoredMember> members = new ArrayList<>(Math.max(count, 0));
        for (int i = 0; i < count; i++) {
            String memberId = readString(buf, flexible);
            String groupInstanceId = version >= 3 ? readString(buf, flexible) : null;
            String clientId = readString(buf, flexible);
            String clientHost = readString(buf, flexible);
            int rebalanceTimeout = version >= 1 ? buf.getInt() : -1;
            int sessionTimeout = buf.getInt();
            byte[] subscription = readBytes(buf, flexible);
            byte[] assignment = readBytes(buf, flexible);
            if (flexible) skipTaggedFields(buf);
            members.add(new StoredMember(memberId, groupInstanceId, clientId, clientHost,
                    version == 0 ? sessionTimeout : rebalanceTimeout, sessionTimeout, subscription, assignment));
        }
        if (flexible) skipTaggedFields(buf);
        return new StoredGroup(protocolType, generation, protocol, leader, currentStateTimestamp, members);
    }

    private static void writeString(DataOutputStream out, String s, boolean nullable, boolean flexible)
            throws IOException {
        if (s == null) {
            if (!nullable) throw new IllegalArgumentException("a non-nullable GroupMetadataValue string is null");
            if (flexible) writeUnsignedVarint(out, 0); else out.writeShort(-1);
            return;
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        if (b.length > Short.MAX_VALUE) throw new IllegalArgumentException("string of " + b.length + " bytes");
        if (flexible) writeUnsignedVarint(out, b.length + 1); else out.writeShort(b.length);
        out.write(b);
    }

    private static void writeBytes(DataOutputStream out, byte[] b, boolean flexible) throws IOException {
        byte[] bytes = b == null ? new byte[0] : b;
        writeLength(out, bytes.length, flexible);
        out.write(bytes);
    }

    private static void writeLength(DataOutputStream out, int length, boolean flexible) throws IOException {
        if (flexible) writeUnsignedVarint(out, length + 1); else out.writeInt(length);
    }

    private static void writeUnsignedVarint(DataOutputStream out, int value) throws IOException {
        while ((value & 0xffffff80) != 0) {
            out.writeByte((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out.writeByte(value);
    }

    private static String readString(ByteBuffer buf, boolean flexible) {
        int length = flexible ? readUnsignedVarint(buf) - 1 : buf.getShort();
        if (length < 0) return null;
        byte[] b = new byte[length];
        buf.get(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static byte[] readBytes(ByteBuffer buf, boolean flexible) {
        int length = readLength(buf, flexible);
        if (length < 0 || length > buf.remaining()) {
            throw new IllegalArgumentException("GroupMetadataValue bytes of length " + length + " with "
                    + buf.remaining() + " left");
        }
        byte[] b = new byte[length];
        buf.get(b);
        return b;
    }

    private static int readLength(ByteBuffer buf, boolean flexible) {
        return flexible ? readUnsignedVarint(buf) - 1 : buf.getInt();
    }

    private static void skipTaggedFields(ByteBuffer buf) {
        int count = readUnsignedVarint(buf);
        for (int i = 0; i < count; i++) {
            readUnsignedVarint(buf);
            int size = readUnsignedVarint(buf);
            buf.position(buf.position() + size);
        }
    }

    private static int readUnsignedVarint(ByteBuffer buf) {
        int value = 0;
        for (int shift = 0; shift < 35; shift += 7) {
            byte b = buf.get();
            value |= (b & 0x7f) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new IllegalArgumentException("a varint longer than 5 bytes in a GroupMetadataValue");
    }
}
