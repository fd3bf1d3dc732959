package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteInput;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.JuteRecord;
import io.tandem.zk.wire.KeeperCode;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.Xids;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.AuthPacket;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.ExistsRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ClientInfo;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server's memory bounds, over real sockets: Apache's globalOutstandingLimit, the per-connection byte limit of
 * queued requests, the handshake timeout, maxClientCnxns under simultaneous connects, and addauth that does not grow
 * the session's ids. The commit thread is held on a task where a test needs requests to pile up, so what the server
 * has read (and queued) can be measured before anything is answered.
 */
class ZooKeeperLimitsTest {
    @TempDir
    Path dir;
    private ZkServer server;
    private CountDownLatch releaseCommitThread;

    @AfterEach
    void stop() {
        if (releaseCommitThread != null) {
            releaseCommitThread.countDown();
        }
        if (server != null) {
            server.close();
        }
    }

    private ZkServer start(Map<String, String> settings) throws IOException {
        server = ZkServer.start(ZkServerConfig.from("127.0.0.1", 0, dir, settings::get), ZkStore.inMemory(), null);
        return server;
    }

    /** Parks the commit thread on a task until {@link #releaseCommitThread} is counted down. */
    private void holdCommitThread() throws InterruptedException {
        releaseCommitThread = new CountDownLatch(1);
        CountDownLatch parked = new CountDownLatch(1);
        server.call(() -> {
            parked.countDown();
            try {
                releaseCommitThread.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        assertTrue(parked.await(10, TimeUnit.SECONDS));
    }

    /** Waits until the queue has stopped growing for a while; returns its size. */
    private int settledQueueSize() throws InterruptedException {
        int last = -1;
        int stableRounds = 0;
        while (stableRounds < 5) {
            Thread.sleep(100);
            int now = server.queuedRequests();
            stableRounds = now == last ? stableRounds + 1 : 0;
            last = now;
        }
        return last;
    }

    /** {@code count} request frames back to back, xids from {@code firstXid}, to be sent in one write. */
    private static byte[] frames(int count, int firstXid, int type, IntFunction<JuteRecord> body) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < count; i++) {
            ByteBuf buf = Unpooled.buffer();
            buf.writeInt(0);
            JuteOutput out = new JuteOutput(buf);
            new RequestHeader(firstXid + i, type).write(out);
            body.apply(i).write(out);
            buf.setInt(0, buf.readableBytes() - 4);
            byte[] frame = new byte[buf.readableBytes()];
            buf.readBytes(frame);
            bytes.write(frame);
        }
        return bytes.toByteArray();
    }

    /** Reads {@code count} replies and checks they answer xids firstXid.. in order, each with {@code err}. */
    private static void assertReplies(RawZkClient raw, int count, int firstXid, int err) throws IOException {
        for (int i = 0; i < count; i++) {
            byte[] frame = raw.readFrame();
            assertNotNull(frame, "connection closed before reply " + i);
            ReplyHeader header = JuteInput.decode(frame, ReplyHeader::read);
            assertEquals(firstXid + i, header.xid());
            assertEquals(err, header.err(), "reply to xid " + header.xid());
        }
    }

    @Test
    void shouldStopReadingConnectionsWhileMoreThanGlobalOutstandingLimitRequestsAreInFlight() throws Exception {
        int limit = 10;
        int connections = 4;
        int perConnection = 30;
        start(Map.of("globalOutstandingLimit", String.valueOf(limit)));
        List<RawZkClient> clients = new ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                RawZkClient raw = new RawZkClient(server.port());
                assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
                clients.add(raw);
            }
            holdCommitThread();
            for (RawZkClient raw : clients) {
                raw.sendRaw(frames(perConnection, 1, OpCode.EXISTS, i -> new ExistsRequest("/missing" + i, false)));
            }
            int queued = settledQueueSize();
            // The connection that crosses the limit stops at once; every other one gets at most one request in.
            assertTrue(queued <= limit + connections, "read " + queued + " requests with globalOutstandingLimit "
                    + limit + " (" + connections * perConnection + " were sent)");
            releaseCommitThread.countDown();
            for (RawZkClient raw : clients) {
                assertReplies(raw, perConnection, 1, KeeperCode.NO_NODE.code());
            }
        } finally {
            for (RawZkClient raw : clients) {
                raw.close();
            }
        }
    }

    @Test
    void shouldStopReadingAConnectionWhoseQueuedRequestsPassTheByteLimit() throws Exception {
        start(Map.of());
        int requests = 24;
        int dataBytes = 512 * 1024;
        try (RawZkClient raw = new RawZkClient(server.port())) {
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            holdCommitThread();
            byte[] data = new byte[dataBytes];
            List<ACL> open = List.of(new ACL(31, new Id("world", "anyone")));
            byte[] pipelined = frames(requests, 1, OpCode.CREATE, i -> new CreateRequest("/big" + i, data, open, 0));
            // The socket buffers cannot hold 12 MB: the write blocks once the server stops reading.
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    raw.sendRaw(pipelined);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            int queued = settledQueueSize();
            long maxRequests = ZkServer.CONNECTION_QUEUED_BYTES_MAX / dataBytes + 1;
            assertTrue(queued <= maxRequests, "read " + queued + " requests of " + dataBytes + " bytes with a limit of "
                    + ZkServer.CONNECTION_QUEUED_BYTES_MAX + " bytes per connection");
            assertFalse(sent.isDone(), "the server must have stopped reading");
            releaseCommitThread.countDown();
            sent.get(30, TimeUnit.SECONDS);
            assertReplies(raw, requests, 1, 0);
        }
    }

    @Test
    void shouldCloseAConnectionThatSendsNoConnectRequestWithinTheHandshakeTimeout() throws Exception {
        start(Map.of("zookeeper.nio.sessionlessCnxnTimeout", "300"));
        try (RawZkClient silent = new RawZkClient(server.port());
             RawZkClient partial = new RawZkClient(server.port());
             RawZkClient connected = new RawZkClient(server.port())) {
            assertNotNull(connected.connect(0, new byte[16], 30_000, 0, false));
            partial.sendRaw(new byte[] {0, 0, 0, 100, 0, 0}); // a ConnectRequest that never completes
            silent.socket.setSoTimeout(5_000);
            partial.socket.setSoTimeout(5_000);
            long started = System.nanoTime();
            assertTrue(silent.closedByServer(), "a connection that never sends a ConnectRequest is closed");
            assertTrue(partial.closedByServer(), "so is one whose ConnectRequest never completes");
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) < 4_000);
            Thread.sleep(500);
            JuteInput reply = connected.call(1, OpCode.EXISTS, new ExistsRequest("/", false));
            assertEquals(0, ReplyHeader.read(reply).err(), "a connection with a session is not affected");
        }
    }

    @Test
    void shouldAdmitExactlyMaxClientCnxnsOfManySimultaneousConnectsAndLogTheRest() throws Exception {
        int max = 5;
        int attempts = 60;
        start(Map.of("maxClientCnxns", String.valueOf(max)));
        List<String> warnings = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(ServerConnection.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                warnings.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        ExecutorService pool = Executors.newFixedThreadPool(attempts);
        List<Socket> sockets = new ArrayList<>();
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Socket>> opened = new ArrayList<>();
            for (int i = 0; i < attempts; i++) {
                opened.add(pool.submit(() -> {
                    go.await();
                    return new Socket("127.0.0.1", server.port());
                }));
            }
            go.countDown();
            for (Future<Socket> socket : opened) {
                sockets.add(socket.get(10, TimeUnit.SECONDS));
            }
            Thread.sleep(500);
            List<Socket> open = new ArrayList<>();
            for (Socket socket : sockets) {
                if (!closedByServer(socket)) {
                    open.add(socket);
                }
            }
            assertEquals(max, open.size(), "connections left open from one address");
            long logged = warnings.stream().filter(m -> m.contains("Too many connections from /127.0.0.1 - max is "
                    + max)).count();
            assertEquals(attempts - max, logged, "one log line per refused connection");
            // Closing admitted connections makes room again, exactly as much.
            open.get(0).close();
            open.get(1).close();
            Thread.sleep(300);
            try (RawZkClient first = new RawZkClient(server.port())) {
                assertNotNull(first.connect(0, new byte[16], 30_000, 0, false));
                try (RawZkClient second = new RawZkClient(server.port())) {
                    assertNotNull(second.connect(0, new byte[16], 30_000, 0, false));
                    try (RawZkClient third = new RawZkClient(server.port())) {
                        assertTrue(third.closedByServer(), "the limit still holds after connections came and went");
                    }
                }
            }
        } finally {
            logger.removeHandler(capture);
            for (Socket socket : sockets) {
                socket.close();
            }
            pool.shutdownNow();
        }
    }

    private static boolean closedByServer(Socket socket) throws IOException {
        socket.setSoTimeout(50);
        try {
            return socket.getInputStream().read() == -1;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void shouldNotGrowTheAuthIdsWhenTheSameAddauthIsRepeated() throws Exception {
        start(Map.of());
        try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port())) {
            for (int i = 0; i < 5; i++) {
                zk.addAuthInfo("digest", "alice:secret".getBytes(StandardCharsets.UTF_8));
            }
            zk.addAuthInfo("digest", "bob:secret".getBytes(StandardCharsets.UTF_8));
            zk.addAuthInfo("digest", "alice:secret".getBytes(StandardCharsets.UTF_8));
            Map<String, Integer> seen = new HashMap<>();
            for (ClientInfo info : zk.whoAmI()) {
                seen.merge(info.getAuthScheme() + ":" + info.getUser(), 1, Integer::sum);
            }
            assertEquals(Map.of("ip:127.0.0.1", 1, "digest:alice", 1, "digest:bob", 1), seen);
        }
    }

    @Test
    void shouldRefuseAddauthBeyondTheIdLimitWithAuthFailed() throws Exception {
        start(Map.of());
        try (RawZkClient raw = new RawZkClient(server.port())) {
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            int accepted = 0;
            for (int i = 0; i < ConnectionAuth.AUTH_IDS_MAX + 10; i++) {
                raw.sendFrame(new RequestHeader(Xids.AUTH, OpCode.AUTH),
                        new AuthPacket(0, "digest", ("user" + i + ":pw").getBytes(StandardCharsets.UTF_8)));
                byte[] frame = raw.readFrame();
                assertNotNull(frame);
                int err = JuteInput.decode(frame, ReplyHeader::read).err();
                if (err != 0) {
                    assertEquals(KeeperCode.AUTH_FAILED.code(), err);
                    break;
                }
                accepted++;
            }
            assertEquals(ConnectionAuth.AUTH_IDS_MAX - 1, accepted, "the ip id counts too");
            assertTrue(raw.closedByServer(), "AuthFailed closes the connection, as for an unknown scheme");
        }
    }
}
