package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.zk.wire.proto.ConnectResponse;
import java.nio.file.Path;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up and shut-down of the embedded ZooKeeper role; the timings are printed, with only a generous bound. */
class ZooKeeperStartupTest {
    @TempDir
    Path dir;

    @Test
    void shouldAnswerFirstHandshakeSoonAfterStartAndCloseCleanly() throws Exception {
        long started = System.nanoTime();
        Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        long startNanos = System.nanoTime() - started;
        long firstAnswerNanos;
        try (RawZkClient raw = new RawZkClient(tandem.zookeeperPort())) {
            ConnectResponse response = raw.connect(0, new byte[16], 30_000, 0, false);
            firstAnswerNanos = System.nanoTime() - started;
            assertTrue(response.sessionId() != 0);
        }
        long closing = System.nanoTime();
        tandem.close();
        long closeNanos = System.nanoTime() - closing;
        System.out.printf("ZooKeeper role: Tandem.start %.1f ms, start to first handshake answer %.1f ms, close %.1f ms%n",
                startNanos / 1e6, firstAnswerNanos / 1e6, closeNanos / 1e6);
        assertTrue(firstAnswerNanos < 5_000_000_000L, "start-up took " + firstAnswerNanos / 1_000_000 + " ms");
        assertEquals(-1, tandem.kafkaPort());
    }
}
