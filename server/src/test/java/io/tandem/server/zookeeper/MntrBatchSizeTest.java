package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TestPorts;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone server's {@code sync_processor_batch_size}, as Apache's SyncRequestProcessor counts it: the requests in
 * the batch one fsync makes durable, the reads held behind the batch's writes included (Apache queues a read behind an
 * unflushed write in its toFlush list and counts the list). Tandem holds a read only behind a write of its own
 * session, so a session that sends a read right after each write makes batches larger than their transactions.
 */
class MntrBatchSizeTest {
    @TempDir
    Path dir;

    @Test
    void shouldCountReadsHeldBehindAFlushInTheBatchSize() throws Exception {
        ZkServerConfig config = ZkServerConfig.from("127.0.0.1", TestPorts.freePort(), dir,
                Map.of("4lw.commands.whitelist", "mntr")::get);
        ZkServer server = ZkServer.start(config, StorageZkStore.open(dir), null);
        try (ZooKeeper zk = ZkTestSupport.connect("127.0.0.1:" + server.port(), 30_000, null)) {
            int pairs = 300;
            CountDownLatch done = new CountDownLatch(2 * pairs);
            for (int i = 0; i < pairs; i++) {
                // The read is held until the write before it is durable: replies go in xid order.
                zk.create("/b" + i, new byte[10], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                        (rc, path, ctx, name) -> done.countDown(), null);
                zk.getData("/b" + i, false, (rc, path, ctx, data, stat) -> done.countDown(), null);
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            Map<String, Object> figures = server.call(() -> FourLetterWords.metricValues(server))
                    .get(10, TimeUnit.SECONDS);
            long batched = ((Number) figures.get("sum_sync_processor_batch_size")).longValue();
            long transactions = ((Number) figures.get("log_synced_txns")).longValue();
            assertTrue(transactions >= pairs + 1, figures.toString());
            // Reads held behind a batch already being fsynced count in none (Apache's would pass an empty toFlush).
            assertTrue(batched > transactions, "reads held behind the writes' flush count: " + figures);
            assertTrue(batched <= transactions + pairs, "no more reads than were sent: " + figures);
        } finally {
            server.close();
        }
    }
}
