package io.tandem.server.kafka;

import io.tandem.server.TandemCluster;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What the replication tests (ReplicationTest, ReplicationLeadershipTest, ReplicationTopicChangesTest) share: a
 * cluster started by each test ({@link ClusterPerTest}), three brokers unless a test builds another, the Admin client
 * on it, and {@link ReplicationClients}' producer, consumer and ZooKeeper client bound to that cluster.
 */
abstract class ReplicationClusterTest {
    static final int BROKERS = 3;
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.startedByEachTest();
    TandemCluster cluster;
    Admin admin;

    /** Three brokers with {@code settings}. */
    void startBrokers(Map<String, String> settings) throws Exception {
        startBrokers(settings, zookeeperConnect -> { });
    }

    /** Three brokers with {@code settings}, after {@code beforeBrokers} has written what they are to find. */
    void startBrokers(Map<String, String> settings, TandemCluster.BeforeBrokers beforeBrokers) throws Exception {
        use(kafka.start(BROKERS, settings, beforeBrokers));
    }

    /** A cluster the test started itself through {@link #kafka} (another size, a proxy before a broker). */
    void use(TandemCluster started) {
        cluster = started;
        admin = kafka.admin();
    }

    List<String> consumeAll(String topic, int expected) {
        return ReplicationClients.consumeAll(cluster, admin, topic, expected);
    }

    String bootstrap() {
        return cluster.runningBootstrapServers();
    }

    KafkaProducer<String, String> producer(String acks, String idempotent) {
        return ReplicationClients.producer(cluster, acks, idempotent);
    }

    ZooKeeper zkClient() throws Exception {
        return ReplicationClients.zkClient(cluster.zookeeperConnect());
    }
}
