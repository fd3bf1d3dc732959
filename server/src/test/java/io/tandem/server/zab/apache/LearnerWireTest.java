package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.DataTree;
import org.apache.zookeeper.server.quorum.LearnerInfo;
import org.apache.zookeeper.server.util.SerializeUtils;
import org.junit.jupiter.api.Test;

/** The quorum port's bytes against Apache 3.9.5's own jute classes (test scope). */
class LearnerWireTest {

    private static byte[] apacheBytes(org.apache.jute.Record record, String tag) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryOutputArchive.getArchive(bytes).writeRecord(record, tag);
        return bytes.toByteArray();
    }

    private static byte[] ours(QuorumPacket packet) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        LearnerWire.write(packet, out);
        out.flush();
        return bytes.toByteArray();
    }

    @Test
    void packetsEncodeAsApachesQuorumPacketAndDecodeBack() throws IOException {
        byte[] data = {1, 2, 3};
        org.apache.zookeeper.server.quorum.QuorumPacket apache = new org.apache.zookeeper.server.quorum.QuorumPacket(
                LearnerWire.REQUEST, -1, data, new ArrayList<>(List.of(new Id("digest", "alice:x"))));
        QuorumPacket packet = new QuorumPacket(LearnerWire.REQUEST, -1, data,
                List.of(new LearnerWire.Id("digest", "alice:x")));
        byte[] bytes = apacheBytes(apache, "packet");
        assertArrayEquals(bytes, ours(packet));
        QuorumPacket back = LearnerWire.read(new DataInputStream(new ByteArrayInputStream(bytes)), 1024);
        assertArrayEquals(data, back.data());
        assertEquals(packet.authinfo(), back.authinfo());

        byte[] nulls = apacheBytes(new org.apache.zookeeper.server.quorum.QuorumPacket(LearnerWire.UPTODATE, -1,
                null, null), "packet");
        assertArrayEquals(nulls, ours(new QuorumPacket(LearnerWire.UPTODATE, -1, null)));
        QuorumPacket empty = LearnerWire.read(new DataInputStream(new ByteArrayInputStream(nulls)), 1024);
        assertNull(empty.data());
        assertNull(empty.authinfo());
    }

    @Test
    void learnerInfoIsApachesLearnerInfo() throws IOException {
        assertArrayEquals(apacheBytes(new LearnerInfo(7, LearnerWire.PROTOCOL_VERSION, 0x100000002L), "LearnerInfo"),
                LearnerWire.learnerInfo(7, 0x100000002L));
    }

    @Test
    void aPacketFieldOverTheLimitOrCutShortIsRefused() throws IOException {
        byte[] bytes = ours(new QuorumPacket(LearnerWire.PROPOSAL, 5, new byte[100]));
        assertThrows(IOException.class,
                () -> LearnerWire.read(new DataInputStream(new ByteArrayInputStream(bytes)), 99));
        byte[] cut = Arrays.copyOf(bytes, bytes.length - 10);
        assertThrows(IOException.class,
                () -> LearnerWire.read(new DataInputStream(new ByteArrayInputStream(cut)), 1024));
    }

    @Test
    void aSnapshotAsApachesLeaderWritesItIsReadToItsEndAndSignature() throws Exception {
        DataTree tree = new DataTree();
        tree.createNode("/app", "v".getBytes(StandardCharsets.UTF_8), Ids.OPEN_ACL_UNSAFE, 0, 1, 5, 6);
        tree.createNode("/app/secure", null, Ids.CREATOR_ALL_ACL, 0x77L, 1, 7, 8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        SerializeUtils.serializeSnapshot(tree, BinaryOutputArchive.getArchive(body), Map.of(0x77L, 30_000));
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        stream.write(body.toByteArray());
        BinaryOutputArchive.getArchive(stream).writeString(LearnerWire.SNAPSHOT_SIGNATURE, "signature");
        stream.write(new byte[] {9, 9}); // the next packet
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(stream.toByteArray()));

        byte[] read = LearnerWire.readSnapshot(in, 1 << 20, 1 << 20);
        assertArrayEquals(body.toByteArray(), read);
        assertEquals(2, in.available(), "the stream is left at the next packet");

        byte[] unsigned = body.toByteArray();
        ByteArrayOutputStream wrong = new ByteArrayOutputStream();
        wrong.write(unsigned);
        BinaryOutputArchive.getArchive(wrong).writeString("NotBen", "signature");
        assertThrows(IOException.class, () -> LearnerWire.readSnapshot(
                new DataInputStream(new ByteArrayInputStream(wrong.toByteArray())), 1 << 20, 1 << 20));
        assertThrows(IOException.class, () -> LearnerWire.readSnapshot(
                new DataInputStream(new ByteArrayInputStream(stream.toByteArray())), 1 << 20, 64),
                "over the snapshot bound");
        assertTrue(unsigned.length > 64);
    }

    @Test
    void aPacketWhoseDataAndAuthIdsTogetherPassTheBoundIsRefused() throws IOException {
        // Each field alone is within the bound; together they are not, and a peer must not get past it one id at a
        // time (1,024 ids of the bound's size each).
        byte[] data = new byte[400];
        List<LearnerWire.Id> ids = List.of(new LearnerWire.Id("digest", "a".repeat(310)),
                new LearnerWire.Id("digest", "b".repeat(310)));
        byte[] bytes = ours(new QuorumPacket(LearnerWire.REQUEST, 1, data, ids));
        assertThrows(IOException.class,
                () -> LearnerWire.read(new DataInputStream(new ByteArrayInputStream(bytes)), 1024));
        QuorumPacket fits = LearnerWire.read(new DataInputStream(new ByteArrayInputStream(bytes)), 400 + 2 * 316);
        assertEquals(ids, fits.authinfo());
    }
}
