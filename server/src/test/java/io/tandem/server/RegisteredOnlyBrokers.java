package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.metadata.KafkaZkLayout;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Brokers registered in ZooKeeper as Kafka registers one, that never run: the placement tests give the controller
 * brokers to place replicas on without starting them.
 */
public final class RegisteredOnlyBrokers {
    private RegisteredOnlyBrokers() {
    }

    /** A ZooKeeper session to register them with (ephemeral nodes: they leave with it). */
    public static ZooKeeper zooKeeper(String connect) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, 30_000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS), "ZooKeeper session");
        return zk;
    }

    /**
     * Registers broker {@code id} (with {@code rack}, or none when null). Its port refuses connections (so clients
     * pass it over at once), and its registration is dated an hour ahead: the controller's dead-process probe waits
     * for a new registration's listening grace from that date before it takes refusals as a process gone, so the
     * broker stays live for the whole test; dated now, a slow run (load 38) saw its later topics placed over fewer
     * brokers.
     */
    public static void register(ZooKeeper zk, int id, String rack) throws Exception {
        long graceUntilTheTestEnds = System.currentTimeMillis() + TimeUnit.HOURS.toMillis(1);
        zk.create("/brokers/ids/" + id, KafkaZkLayout.encodeBroker(new KafkaZkLayout.BrokerRegistration(id,
                        "127.0.0.1", 1, "PLAINTEXT", rack, graceUntilTheTestEnds)),
                ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
    }
}
