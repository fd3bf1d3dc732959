package io.tandem.server.kafka.metadata;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
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
