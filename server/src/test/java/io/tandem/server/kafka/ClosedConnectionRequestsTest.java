package io.tandem.server.kafka;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.KafkaFrames;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Requests a client sent just before closing its connection are still handled, as Kafka's SocketServer handles the
 * receives it completed before a disconnect: an {@code acks=0} producer that sends and closes (the Java producer's
 * close, kcat's exit) loses nothing. Frames read before the close used to be dropped with the connection (42 of
 * 180 records appended).
 */
class ClosedConnectionRequestsTest {
    private static final String TOPIC = "fire-and-forget";
    private static final int CONNECTIONS = 60;
    private static final int PRODUCES_PER_CONNECTION = 3;

    @TempDir
    Path dir;

    @Test
    void shouldAppendEveryAcksZeroProduceSentRightBeforeTheClientClosed() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
             RawKafkaConnection admin = new RawKafkaConnection(tandem.kafkaPort())) {
            TestRequests.createTopic(admin, TOPIC);
            for (int c = 0; c < CONNECTIONS; c++) {
                // All of a connection's requests in one write, then the close: they reach the broker with the FIN.
                ByteBuf bytes = Unpooled.buffer();
                for (int p = 0; p < PRODUCES_PER_CONNECTION; p++) {
                    ByteBuf frame = KafkaFrames.encodeRequest(ByteBufAllocator.DEFAULT, p, "acks0", ApiKey.PRODUCE,
                            (short) 9, TestRequests.produce(TOPIC, TestRequests.batch(c + "/" + p), (short) 0, 5000));
                    bytes.writeBytes(frame);
                    frame.release();
                }
                try (Socket socket = new Socket("127.0.0.1", tandem.kafkaPort())) {
                    OutputStream out = socket.getOutputStream();
                    out.write(ByteBufUtil.getBytes(bytes));
                    out.flush();
                }
            }
            long expected = (long) CONNECTIONS * PRODUCES_PER_CONNECTION;
            long deadline = System.nanoTime() + 10_000_000_000L;
            long end = TestRequests.latestOffset(admin, TOPIC);
            while (end < expected && System.nanoTime() < deadline) {
                Thread.sleep(20);
                end = TestRequests.latestOffset(admin, TOPIC);
            }
            assertEquals(expected, end, "every record sent before a close is appended");
        }
    }
}
