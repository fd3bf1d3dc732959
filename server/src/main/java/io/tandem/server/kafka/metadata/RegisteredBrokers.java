package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The brokers registered in {@code /brokers/ids}, read for the callers that Kafka 3.9 lets read ZooKeeper: the
 * controller's live set (KafkaZkClient.getAllBrokerAndEpochsInCluster) and CreatePartitions' placement (ZkAdminManager
 * through AdminZkClient.getBrokerMetadatas). A broker's metadata cache never takes them from here: its live brokers are
 * the controller's UpdateMetadata only.
 */
public final class RegisteredBrokers {
    private RegisteredBrokers() {
    }

    /** Each registration under {@code /brokers/ids} (one gone between the listing and its read is skipped), by id. */
    public static List<BrokerRegistration> read(ZnodeStore store) throws Exception {
        List<BrokerRegistration> brokers = new ArrayList<>();
        for (String child : store.getChildren(KafkaZkLayout.BROKER_IDS)) {
            byte[] data = store.getData(KafkaZkLayout.BROKER_IDS + "/" + child);
            if (data != null) brokers.add(KafkaZkLayout.decodeBroker(Integer.parseInt(child), data));
        }
        return byId(brokers);
    }

    /** {@code brokers} sorted by id, unmodifiable. */
    static List<BrokerRegistration> byId(List<BrokerRegistration> brokers) {
        List<BrokerRegistration> sorted = new ArrayList<>(brokers);
        sorted.sort(Comparator.comparingInt(BrokerRegistration::brokerId));
        return List.copyOf(sorted);
    }
}
