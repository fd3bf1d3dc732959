package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.jute.BinaryOutputArchive;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.server.util.SerializeUtils;
import org.junit.jupiter.api.Test;

/**
 * The database an Apache leader streams after SNAP (Apache's own {@code SerializeUtils.serializeSnapshot}, no file
 * framing) read into Tandem's tree by {@link ApacheTreeFormat#read(DataInputStream, DataTree, Map, int)}.
 */
class ApacheTreeFormatStreamTest {
    private static byte[] apacheBody() throws Exception {
        org.apache.zookeeper.server.DataTree tree = new org.apache.zookeeper.server.DataTree();
        tree.createNode("/app", "v".getBytes(StandardCharsets.UTF_8), Ids.OPEN_ACL_UNSAFE, 0, 1, 5, 6);
        tree.createNode("/app/secure", "s".getBytes(StandardCharsets.UTF_8),
                List.of(new org.apache.zookeeper.data.ACL(Perms.ALL,
                        new org.apache.zookeeper.data.Id("digest", "alice:hash"))), 0x77L, 1, 7, 8);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        SerializeUtils.serializeSnapshot(tree, BinaryOutputArchive.getArchive(body), Map.of(0x77L, 30_000));
        return body.toByteArray();
    }

    @Test
    void shouldReadTheSnapshotBodyAnApacheLeaderStreams() throws Exception {
        DataTree tree = new DataTree();
        Map<Long, Session> sessions = new HashMap<>();
        tree.clearForSnapshot();
        ApacheTreeFormat.read(new DataInputStream(new ByteArrayInputStream(apacheBody())), tree, sessions, 1 << 20);

        assertEquals(30_000, sessions.get(0x77L).timeoutMs);
        DataNode app = tree.getNode("/app");
        assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), app.data());
        assertEquals(5, app.czxid);
        assertEquals(6, app.ctime);
        DataNode secure = tree.getNode("/app/secure");
        assertEquals(0x77L, secure.ephemeralOwner());
        assertEquals(List.of(new ACL(Perms.ALL, new Id("digest", "alice:hash"))), secure.acl);
        assertEquals(7, secure.czxid);
        assertTrue(tree.getNode("/zookeeper") != null, "the system nodes are there");
    }

    @Test
    void shouldRefuseAFieldOverTheLimitAndATruncatedBody() throws Exception {
        byte[] body = apacheBody();
        IOException tooLong = assertThrows(IOException.class, () -> ApacheTreeFormat.read(
                new DataInputStream(new ByteArrayInputStream(body)), new DataTree(), new HashMap<>(), 2));
        assertTrue(tooLong.getMessage().contains("exceeds the limit of 2"), tooLong.getMessage());
        byte[] cut = java.util.Arrays.copyOf(body, body.length - 5);
        assertThrows(IOException.class, () -> ApacheTreeFormat.read(
                new DataInputStream(new ByteArrayInputStream(cut)), new DataTree(), new HashMap<>(), 1 << 20));
    }
}
