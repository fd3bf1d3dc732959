package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An embedded server (a JUnit test, an application: no {@code tandem start}, so no exit on OutOfMemoryError) whose
 * commit thread dies of an Error stops serving, as Apache's ZooKeeperServer goes to its ERROR state when a critical
 * thread dies: its connections and its port close, so clients see a disconnect instead of waiting forever, and the
 * writes it acknowledged are there when it is started again on the same directory. The Error is thrown on the commit
 * thread by a task (a real heap fill is {@code OutOfMemoryExitIT}'s, in a child process); the old server left the
 * connection open with nobody to answer it (the test fails on closedByServer).
 */
class CommitThreadFailureTest {
    private static final List<ACL> OPEN = List.of(new ACL(31, new Id("world", "anyone")));
    @TempDir
    Path dir;

    private ZkServer start() throws IOException {
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", 0, dir, Map.<String, String>of()::get);
        return ZkServer.start(config, ZkStores.open(config.dirs(), "disk", 0), null);
    }

    @Test
    void shouldCloseItsConnectionsAndPortAndKeepAcknowledgedWritesWhenTheCommitThreadDies() throws Exception {
        int port;
        ZkServer server = start();
        try (RawZkClient raw = new RawZkClient(server.port())) {
            port = server.port();
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            assertEquals(0, ReplyHeader.read(raw.call(1, OpCode.CREATE,
                    new CreateRequest("/acked", new byte[] {7}, OPEN, 0))).err());
            server.call(() -> {
                throw new OutOfMemoryError("simulated: the heap is full");
            });
            assertTrue(raw.closedByServer(), "the client sees a disconnect, not a server that never answers");
            assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close(),
                    "the port is closed: no new client waits on it either");
        } finally {
            server.close();
        }
        ZkServer restarted = start();
        try (RawZkClient raw = new RawZkClient(restarted.port())) {
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            assertEquals(0, ReplyHeader.read(raw.call(1, OpCode.GET_DATA, new GetDataRequest("/acked", false))).err(),
                    "the acknowledged write is kept");
        } finally {
            restarted.close();
        }
    }
}
