package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.zk.wire.JuteOutput;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.data.ACL;
import io.tandem.zk.wire.data.Id;
import io.tandem.zk.wire.proto.CreateRequest;
import io.tandem.zk.wire.proto.GetDataRequest;
import io.tandem.zk.wire.proto.ReplyHeader;
import io.tandem.zk.wire.proto.RequestHeader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends requests and does not read the replies must not make the server hold its replies without end:
 * Apache's outgoing-buffer queue grows until the heap runs out (and a Tandem process exits on an OutOfMemoryError), so
 * one such client could stop the server for everyone. Over real sockets: the server stops reading a connection whose
 * replies are not being taken, and closes one whose unsent replies pass {@link ReplyWriter#UNSENT_BYTES_MAX}; the
 * old server held them all (both tests fail on it).
 */
class ZooKeeperSlowReaderTest {
    private static final List<ACL> OPEN = List.of(new ACL(31, new Id("world", "anyone")));
    @TempDir
    Path dir;
    private ZkServer server;
    private final Logger connectionLog = Logger.getLogger(ServerConnection.class.getName());
    /** The server's warnings that it closed a connection for its unsent replies. */
    private final AtomicInteger closedForUnsentReplies = new AtomicInteger();
    private final Handler closings = new Handler() {
        @Override
        public void publish(LogRecord record) {
            if (record.getLevel() == Level.WARNING && String.valueOf(record.getMessage())
                    .contains("bytes of replies not taken by the client")) {
                closedForUnsentReplies.incrementAndGet();
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @AfterEach
    void stop() {
        connectionLog.removeHandler(closings);
        if (server != null) {
            server.close();
        }
    }

    private void start() throws IOException {
        connectionLog.addHandler(closings);
        server = ZkServer.start(ZkServerConfig.from("127.0.0.1", 0, dir, Map.<String, String>of()::get),
                ZkStore.inMemory(), null);
    }

    private void create(String path, int dataBytes) throws IOException {
        try (RawZkClient raw = new RawZkClient(server.port())) {
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            ReplyHeader header = ReplyHeader.read(raw.call(1, OpCode.CREATE,
                    new CreateRequest(path, new byte[dataBytes], OPEN, 0)));
            assertEquals(0, header.err());
        }
    }

    /** {@code count} getData frames for {@code path}, back to back. */
    private static byte[] getDataFrames(int count, String path) throws IOException {
        ByteBuf buf = Unpooled.buffer();
        for (int i = 0; i < count; i++) {
            int start = buf.writerIndex();
            buf.writeInt(0);
            JuteOutput out = new JuteOutput(buf);
            new RequestHeader(i + 1, OpCode.GET_DATA).write(out);
            new GetDataRequest(path, false).write(out);
            buf.setInt(start, buf.writerIndex() - start - 4);
        }
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    private long settledPacketsReceived() throws InterruptedException {
        long last = -1;
        int stableRounds = 0;
        while (stableRounds < 5) {
            Thread.sleep(200);
            long now = server.stats.packetsReceived.get();
            stableRounds = now == last ? stableRounds + 1 : 0;
            last = now;
        }
        return last;
    }

    /** Reads until the server closes (true) or nothing comes for {@code quietMs} (false), counting bytes into {@code taken}. */
    private static boolean closedByServer(RawZkClient raw, long[] taken, int quietMs) throws IOException {
        raw.socket.setSoTimeout(quietMs);
        byte[] chunk = new byte[64 << 10];
        try {
            int n;
            while ((n = raw.socket.getInputStream().read(chunk)) != -1) {
                taken[0] += n;
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /**
     * Waits (at most {@code timeoutMs}) until the server has closed a connection for its unsent replies, so that the
     * client reads only after the server decided: a client that read while the server was still producing replies
     * could take them as fast as they came and never be over the limit (the test's race, not the server's).
     */
    private void awaitClosedForUnsentReplies(long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        while (closedForUnsentReplies.get() == 0 && System.nanoTime() - deadline < 0) {
            Thread.sleep(10);
        }
    }

    /**
     * Reads replies until the server closes the connection (true) or all {@code replies} came (false: it was served in
     * full, so it is not closed for its unsent replies). Counting the replies ends the read of a connection that was
     * not closed as soon as its last reply is in, where waiting for a quiet spell cost that spell per connection.
     */
    private static boolean closedBeforeAllReplies(RawZkClient raw, int replies, int quietMs) throws IOException {
        raw.socket.setSoTimeout(quietMs);
        try {
            for (int got = 0; got < replies; got++) {
                if (raw.readFrame() == null) {
                    return true;
                }
            }
            return false;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    @Test
    void shouldStopReadingAConnectionThatDoesNotReadItsReplies() throws Exception {
        start();
        // A long path makes each request about 1 KB, so the requests alone fill the socket buffers once the server
        // stops reading; each reply carries 4 KB of data.
        String path = "/" + "p".repeat(1_000);
        create(path, 4_096);
        int requests = 20_000;
        byte[] pipelined = getDataFrames(requests, path);
        try (RawZkClient raw = new RawZkClient(server.port())) {
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            long before = server.stats.packetsReceived.get();
            CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> {
                try {
                    raw.sendRaw(pipelined);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            long read = settledPacketsReceived() - before;
            assertFalse(sent.isDone(), "the server read all " + read + " requests of a client that reads no replies"
                    + " (" + requests * 4_096L + " bytes of replies)");
            assertTrue(read < requests / 2, "read " + read + " of " + requests + " requests");

            // The server serves others meanwhile, and the connection is served on once its client reads.
            create("/other", 10);
            int replies = 0;
            while (replies < requests) {
                byte[] frame = raw.readFrame();
                assertNotNull(frame, "closed after " + replies + " replies");
                replies++;
            }
            sent.get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldCloseAConnectionWhoseUnsentRepliesPassTheLimit() throws Exception {
        start();
        int dataBytes = 1_000_000;
        create("/big", dataBytes);
        // Small requests, all read at once: their replies are more than the limit and the client reads none of them.
        int requests = (int) (ReplyWriter.UNSENT_BYTES_MAX / dataBytes) + 40;
        try (RawZkClient raw = new RawZkClient(server.port())) {
            assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
            raw.sendRaw(getDataFrames(requests, "/big"));
            awaitClosedForUnsentReplies(20_000);
            // Taken now, the client gets what the socket buffers held when the server closed, then the end.
            long[] taken = new long[1];
            assertTrue(closedByServer(raw, taken, 20_000), "the connection is still open after " + taken[0] + " of "
                    + (long) requests * dataBytes + " bytes of replies");
            assertTrue(taken[0] < (long) requests * dataBytes, "all " + taken[0] + " bytes of replies were kept");
            create("/after", 10);
        }
    }

    @Test
    void shouldCloseConnectionsOnceTheUnsentRepliesOfAllOfThemPassTheTotalLimit() throws Exception {
        start();
        int dataBytes = 1_000_000;
        create("/big", dataBytes);
        // Each connection stays under the per-connection limit; together they pass the total.
        int perConnection = (int) (ReplyWriter.UNSENT_BYTES_MAX / dataBytes) - 14;
        int connections = (int) (ReplyWriter.UNSENT_TOTAL_BYTES_MAX / ((long) perConnection * dataBytes)) + 2;
        List<RawZkClient> clients = new java.util.ArrayList<>();
        try {
            for (int c = 0; c < connections; c++) {
                RawZkClient raw = new RawZkClient(server.port());
                clients.add(raw);
                assertNotNull(raw.connect(0, new byte[16], 30_000, 0, false));
                raw.sendRaw(getDataFrames(perConnection, "/big"));
            }
            awaitClosedForUnsentReplies(20_000);
            int closed = 0;
            for (RawZkClient raw : clients) {
                if (closedBeforeAllReplies(raw, perConnection, 5_000)) closed++;
            }
            assertTrue(closed >= 1, "no connection closed with " + connections + " x " + (long) perConnection
                    * dataBytes + " bytes of replies unsent, total limit " + ReplyWriter.UNSENT_TOTAL_BYTES_MAX);
            create("/after", 10);
        } finally {
            for (RawZkClient raw : clients) {
                raw.close();
            }
        }
    }
}
