package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Change notifications older than the expiration are deleted from all three directories, newer ones and other
 * children are left, as a Kafka 3.9 broker purges them; against a real ZooKeeper server (its ctime) and the local store.
 */
class ChangeNotificationsTest {
    @Test
    void shouldPurgeOnlyExpiredNotificationsFromAZooKeeperStore(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            shouldPurgeOnlyExpiredNotifications(store);
        }
    }

    @Test
    void shouldPurgeOnlyExpiredNotificationsFromALocalStore(@TempDir Path dir) throws Exception {
        try (LocalZnodeStore store = new LocalZnodeStore(dir)) {
            shouldPurgeOnlyExpiredNotifications(store);
        }
    }

    /**
     * The periodic purge reads nothing while nothing changes: after a pass that found no notification, the next reads
     * ZooKeeper only once one appeared (its directory's watch), and keeps looking while one is left to expire.
     */
    @Test
    void shouldReadNothingForThePurgeWhileNoNotificationAppears(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30));
             ZkZnodeStore writer = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            AtomicInteger reads = new AtomicInteger();
            ZnodeStore store = new ForwardingZnodeStore(zk) {
                @Override
                public List<String> getChildren(String path) throws Exception {
                    reads.incrementAndGet();
                    return inner.getChildren(path);
                }
            };
            for (String path : KafkaZkLayout.PERSISTENT_PATHS) writer.create(path, new byte[0], false);
            ChangeNotifications.Purger purger = new ChangeNotifications.Purger(store);
            long now = System.currentTimeMillis();
            assertEquals(0, purger.purgeIfDue(ChangeNotifications.EXPIRATION_MS, now));
            assertEquals(4, reads.get(), "the first pass reads the four directories");
            for (int pass = 0; pass < 3; pass++) purger.purgeIfDue(ChangeNotifications.EXPIRATION_MS, now);
            assertEquals(4, reads.get(), "nothing appeared: nothing read");

            writer.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX, new byte[0]);
            long deadline = System.currentTimeMillis() + 10_000;
            while (reads.get() == 4) {
                assertTrue(System.currentTimeMillis() < deadline, "a pass after the notification appeared");
                purger.purgeIfDue(ChangeNotifications.EXPIRATION_MS, now);
                Thread.sleep(20);
            }
            int afterAppeared = reads.get();
            purger.purgeIfDue(ChangeNotifications.EXPIRATION_MS, now);
            assertEquals(afterAppeared + 4, reads.get(), "one left to expire: looked at again");
            assertEquals(1, purger.purgeIfDue(0, System.currentTimeMillis() + 10_000), "expired now: purged");
            Thread.sleep(200); // the deletion's own watch event makes one more pass due, which finds nothing
            purger.purgeIfDue(ChangeNotifications.EXPIRATION_MS, now);
            int settled = reads.get();
            for (int pass = 0; pass < 3; pass++) purger.purgeIfDue(ChangeNotifications.EXPIRATION_MS, now);
            assertEquals(settled, reads.get(), "all purged, nothing new: nothing read");
        }
    }

    private static void shouldPurgeOnlyExpiredNotifications(ZnodeStore store) throws Exception {
        String old1 = store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/" + KafkaZkLayout.CONFIG_CHANGE_PREFIX,
                new byte[0]);
        String old2 = store.createSequential(KafkaZkLayout.ACL_LITERAL_CHANGES + "/"
                + KafkaZkLayout.ACL_CHANGE_PREFIX, new byte[0]);
        String old3 = store.createSequential(KafkaZkLayout.ACL_EXTENDED_CHANGES + "/"
                + KafkaZkLayout.ACL_CHANGE_PREFIX, new byte[0]);
        String old4 = store.createSequential(KafkaZkLayout.DELEGATION_TOKEN_CHANGES + "/"
                + KafkaZkLayout.DELEGATION_TOKEN_CHANGE_PREFIX, new byte[0]);
        store.create(KafkaZkLayout.CONFIG_CHANGES + "/not-a-notification", new byte[0], false);
        long cutoff = Math.max(Math.max(Math.max(store.ctime(old1), store.ctime(old2)), store.ctime(old3)),
                store.ctime(old4));
        Thread.sleep(50);
        String recent = store.createSequential(KafkaZkLayout.CONFIG_CHANGES + "/"
                + KafkaZkLayout.CONFIG_CHANGE_PREFIX, new byte[0]);
        long now = store.ctime(recent);
        // Expired: created more than (now - cutoff - 1) ms before now, i.e. the four old ones, not the recent one.
        assertEquals(4, ChangeNotifications.purgeExpired(store, now - cutoff - 1, now));
        assertEquals(List.of(recent.substring(recent.lastIndexOf('/') + 1), "not-a-notification"),
                store.getChildren(KafkaZkLayout.CONFIG_CHANGES).stream().sorted().toList());
        assertEquals(List.of(), store.getChildren(KafkaZkLayout.ACL_LITERAL_CHANGES));
        assertEquals(List.of(), store.getChildren(KafkaZkLayout.ACL_EXTENDED_CHANGES));
        assertEquals(List.of(), store.getChildren(KafkaZkLayout.DELEGATION_TOKEN_CHANGES));
        assertEquals(0, ChangeNotifications.purgeExpired(store, ChangeNotifications.EXPIRATION_MS, now));
    }
}
