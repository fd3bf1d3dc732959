package io.tandem.server.zab.apache;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Apache ZooKeeper 3.9's quorum port bytes between a leader and its learners, written from the protocol facts.
 *
 * <p>No framing beyond jute: each packet is a jute {@code QuorumPacket} {@code {int type; long zxid; buffer data;
 * vector<Id> authinfo}} (a buffer or vector of length -1 is null; an Id is two strings, scheme and id). After a SNAP
 * packet the leader writes its whole database on the same stream, outside any packet (see {@link #readSnapshot}).
 * Packet types are Apache's Leader constants ({@link #REQUEST} ...). The learner opens with FOLLOWERINFO whose zxid is
 * its acceptedEpoch shifted into a zxid and whose data is a jute {@code LearnerInfo {long serverid; int
 * protocolVersion; long configVersion}}; the leader answers LEADERINFO (zxid: the new epoch's first zxid; data: its
 * protocol version as an int), the learner ACKEPOCH (zxid: its last logged zxid; data: its currentEpoch as an int, or
 * -1 when it had already accepted this epoch).
 */
public final class LearnerWire {
    public static final int REQUEST = 1;
    public static final int PROPOSAL = 2;
    public static final int ACK = 3;
    public static final int COMMIT = 4;
    public static final int PING = 5;
    public static final int REVALIDATE = 6;
    public static final int SYNC = 7;
    public static final int INFORM = 8;
    public static final int COMMITANDACTIVATE = 9;
    public static final int NEWLEADER = 10;
    public static final int FOLLOWERINFO = 11;
    public static final int UPTODATE = 12;
    public static final int DIFF = 13;
    public static final int TRUNC = 14;
    public static final int SNAP = 15;
    public static final int OBSERVERINFO = 16;
    public static final int LEADERINFO = 17;
    public static final int ACKEPOCH = 18;
    public static final int INFORMANDACTIVATE = 19;

    /** The Zab 1.0 protocol version learners and leaders announce (LearnerInfo, LEADERINFO). */
    public static final int PROTOCOL_VERSION = 0x10000;
    /**
     * The largest first packet a learner master reads from a connection: FOLLOWERINFO or OBSERVERINFO carries a
     * 20-byte LearnerInfo and no auth ids. Until it is read the peer is unknown, so nothing larger is buffered for it.
     */
    public static final int LEARNER_INFO_PACKET_BYTES_MAX = 1024;
    /** The string the leader writes after a SNAP's database; anything else means the stream is out of step. */
    public static final String SNAPSHOT_SIGNATURE = "BenWasHere";

    private LearnerWire() {
    }

    /** An auth id the leader acts under for a forwarded request (scheme "digest", "ip", ...). */
    public record Id(String scheme, String id) {
    }

    /** One packet; {@code data} and {@code authinfo} may be null, as on the wire. */
    public record QuorumPacket(int type, long zxid, byte[] data, List<Id> authinfo) {
        public QuorumPacket(int type, long zxid, byte[] data) {
            this(type, zxid, data, null);
        }

        @Override
        public String toString() {
            return "QuorumPacket[" + typeName(type) + " zxid=0x" + Long.toHexString(zxid) + " data="
                    + (data == null ? "null" : data.length + " bytes") + "]";
        }
    }

    /** Apache's names of the packet types, for logs. */
    public static String typeName(int type) {
        return switch (type) {
            case REQUEST -> "REQUEST";
            case PROPOSAL -> "PROPOSAL";
            case ACK -> "ACK";
            case COMMIT -> "COMMIT";
            case PING -> "PING";
            case REVALIDATE -> "REVALIDATE";
            case SYNC -> "SYNC";
            case INFORM -> "INFORM";
            case COMMITANDACTIVATE -> "COMMITANDACTIVATE";
            case NEWLEADER -> "NEWLEADER";
            case FOLLOWERINFO -> "FOLLOWERINFO";
            case UPTODATE -> "UPTODATE";
            case DIFF -> "DIFF";
            case TRUNC -> "TRUNC";
            case SNAP -> "SNAP";
            case OBSERVERINFO -> "OBSERVERINFO";
            case LEADERINFO -> "LEADERINFO";
            case ACKEPOCH -> "ACKEPOCH";
            case INFORMANDACTIVATE -> "INFORMANDACTIVATE";
            default -> "UNKNOWN(" + type + ")";
        };
    }

    public static void write(QuorumPacket packet, DataOutputStream out) throws IOException {
        out.writeInt(packet.type());
        out.writeLong(packet.zxid());
        writeBuffer(packet.data(), out);
        if (packet.authinfo() == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(packet.authinfo().size());
            for (Id id : packet.authinfo()) {
                writeString(id.scheme(), out);
                writeString(id.id(), out);
            }
        }
    }

    /**
     * Reads one packet whose variable bytes (its data and its auth ids' strings, together) are at most {@code bytesMax}:
     * each field's length is checked against what is left before it is read, so a peer can never make this member
     * buffer more than that for one packet (a vector of ids, each as long as the data may be, would otherwise). A
     * negative count other than -1 fails.
     */
    public static QuorumPacket read(DataInputStream in, int bytesMax) throws IOException {
        int type = in.readInt();
        long zxid = in.readLong();
        byte[] data = readBuffer(in, bytesMax);
        int left = bytesMax - (data == null ? 0 : data.length);
        int ids = in.readInt();
        List<Id> authinfo = null;
        if (ids != -1) {
            if (ids < 0 || ids > 1_024) {
                throw new IOException("quorum packet with " + ids + " auth ids");
            }
            authinfo = new ArrayList<>(ids);
            for (int i = 0; i < ids; i++) {
                byte[] scheme = readBuffer(in, left);
                left -= scheme == null ? 0 : scheme.length;
                byte[] id = readBuffer(in, left);
                left -= id == null ? 0 : id.length;
                authinfo.add(new Id(utf8(scheme), utf8(id)));
            }
        }
        return new QuorumPacket(type, zxid, data, authinfo);
    }

    private static String utf8(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    /** A jute LearnerInfo. */
    public static byte[] learnerInfo(long sid, long configVersion) {
        return ByteBuffer.allocate(20).putLong(sid).putInt(PROTOCOL_VERSION).putLong(configVersion).array();
    }

    /** ACKEPOCH's data: this learner's currentEpoch, or -1 when the offered epoch was accepted before. */
    public static byte[] epochBytes(int currentEpochOrMinusOne) {
        return ByteBuffer.allocate(4).putInt(currentEpochOrMinusOne).array();
    }

    /**
     * Reads the database a leader writes after SNAP and the signature after it, and returns its bytes as Apache's
     * SerializeUtils wrote them: {@code int sessionCount, (long id, int timeout)*}, the ACL cache {@code int count,
     * (long index, int aclCount, (int perms, string scheme, string id)*)*}, then the nodes {@code (string path, buffer
     * data, long acl, StatPersisted)*} up to the path "/" that ends them. These are the bytes of an Apache snapshot
     * file after its header, which Tandem's Apache snapshot reader takes.
     */
    public static byte[] readSnapshot(DataInputStream in, int fieldBytesMax, long snapshotBytesMax)
            throws IOException {
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        CopyingInput data = new CopyingInput(in, copy, snapshotBytesMax);
        int sessions = data.readInt();
        checkCount(sessions, "sessions");
        for (int i = 0; i < sessions; i++) {
            data.skip(12);
        }
        int acls = data.readInt();
        checkCount(acls, "ACL lists");
        for (int i = 0; i < acls; i++) {
            data.skip(8);
            int entries = data.readInt();
            if (entries == -1) continue;
            checkCount(entries, "ACL entries");
            for (int j = 0; j < entries; j++) {
                data.skip(4);
                data.readBuffer(fieldBytesMax);
                data.readBuffer(fieldBytesMax);
            }
        }
        while (true) {
            byte[] path = data.readBuffer(fieldBytesMax);
            if (path != null && path.length == 1 && path[0] == '/') {
                break;
            }
            data.readBuffer(fieldBytesMax); // node data
            data.skip(8 + 8 * 4 + 4 * 3 + 8 + 8); // acl index, StatPersisted
        }
        String signature = utf8(readBuffer(in, 64));
        if (!SNAPSHOT_SIGNATURE.equals(signature)) {
            throw new IOException("snapshot from the leader ends with \"" + signature + "\", not the signature");
        }
        return copy.toByteArray();
    }

    private static void checkCount(int count, String what) throws IOException {
        if (count < 0) {
            throw new IOException("snapshot from the leader with " + count + " " + what);
        }
    }

    /** Reads from the stream and keeps what it read, within a total bound. */
    private static final class CopyingInput {
        private final DataInputStream in;
        private final OutputStream copy;
        private final long bytesMax;
        private long read;

        CopyingInput(DataInputStream in, OutputStream copy, long bytesMax) {
            this.in = in;
            this.copy = copy;
            this.bytesMax = bytesMax;
        }

        private byte[] take(int n) throws IOException {
            read += n;
            if (read > bytesMax) {
                throw new IOException("snapshot from the leader is over " + bytesMax + " bytes");
            }
            byte[] bytes = in.readNBytes(n);
            if (bytes.length < n) {
                throw new java.io.EOFException("snapshot from the leader ended early");
            }
            copy.write(bytes);
            return bytes;
        }

        int readInt() throws IOException {
            return ByteBuffer.wrap(take(4)).getInt();
        }

        void skip(int n) throws IOException {
            take(n);
        }

        byte[] readBuffer(int bytesMax) throws IOException {
            int length = readInt();
            if (length == -1) return null;
            if (length < 0 || length > bytesMax) {
                throw new IOException("snapshot field of " + length + " bytes, limit " + bytesMax);
            }
            return take(length);
        }
    }

    private static void writeBuffer(byte[] bytes, DataOutputStream out) throws IOException {
        if (bytes == null) {
            out.writeInt(-1);
        } else {
            out.writeInt(bytes.length);
            out.write(bytes);
        }
    }

    private static byte[] readBuffer(DataInputStream in, int bytesMax) throws IOException {
        int length = in.readInt();
        if (length == -1) return null;
        if (length < 0 || length > bytesMax) {
            throw new IOException("quorum packet field of " + length + " bytes, " + bytesMax + " left of its limit");
        }
        byte[] bytes = in.readNBytes(length);
        if (bytes.length < length) {
            throw new java.io.EOFException("quorum packet ended within a field of " + length + " bytes");
        }
        return bytes;
    }

    private static void writeString(String s, DataOutputStream out) throws IOException {
        writeBuffer(s == null ? null : s.getBytes(StandardCharsets.UTF_8), out);
    }

}
