package io.tandem.server;

import io.tandem.kafka.client.ClusterMetadata;
import io.tandem.kafka.client.GroupAdmin;
import io.tandem.kafka.client.GroupListing;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.TopicInfo;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.zk.client.ZkClient;
import io.tandem.zk.client.ZkException;
import io.tandem.zk.wire.KeeperCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Puts a running node (or cluster) back to empty between tests, through the protocols as any client would: every topic
 * but Kafka's internal ones is deleted (one DeleteTopics request, answered once the controller has removed them),
 * every consumer group with its offsets, and every znode a test made (all but {@code /zookeeper} and, where brokers
 * keep their metadata in this ZooKeeper, Kafka's own layout). The connections are kept from one reset to the next, so
 * a reset costs the round trips only. A group that still has members is left (Kafka refuses to delete it): a test
 * closes its consumers.
 */
final class NodeReset implements AutoCloseable {
    /** How long one reset may wait for the servers. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;
    private final String zookeeperConnect;
    /** Top-level znodes a reset keeps. */
    private final Set<String> kept = new TreeSet<>();
    private KafkaClient kafka;
    private ZkClient zookeeper;

    /** Either may be null (that role is not reset); {@code kafkaMetadataHere}: brokers keep their znodes there. */
    NodeReset(String bootstrapServers, String zookeeperConnect, boolean kafkaMetadataHere) {
        this.bootstrapServers = bootstrapServers;
        this.zookeeperConnect = zookeeperConnect;
        kept.add("zookeeper");
        if (kafkaMetadataHere) {
            List<String> layout = new ArrayList<>(KafkaZkLayout.PERSISTENT_PATHS);
            layout.addAll(List.of(KafkaZkLayout.CLUSTER_ID, KafkaZkLayout.CONTROLLER, KafkaZkLayout.CONTROLLER_EPOCH,
                    KafkaZkLayout.BROKERS, KafkaZkLayout.CONFIG, KafkaZkLayout.ADMIN, KafkaZkLayout.FEATURE));
            for (String path : layout) kept.add(path.substring(1).split("/")[0]);
        }
    }

    synchronized void reset() throws Exception {
        if (bootstrapServers != null) resetKafka();
        if (zookeeperConnect != null) resetZooKeeper();
    }

    private void resetKafka() {
        if (kafka == null) kafka = KafkaClient.builder(bootstrapServers).clientId("tandem-reset").requestTimeout(TIMEOUT)
                .build();
        GroupAdmin groups = new GroupAdmin(kafka);
        for (GroupListing group : groups.listGroups()) {
            try {
                groups.deleteGroup(group.groupId());
            } catch (KafkaClientException e) {
                // NON_EMPTY_GROUP (members left running) or already gone: nothing a reset can do about it.
            }
        }
        ClusterMetadata metadata = kafka.metadata(null);
        List<String> topics = new ArrayList<>();
        for (TopicInfo topic : metadata.topics().values()) {
            if (!topic.internal()) topics.add(topic.name());
        }
        if (topics.isEmpty()) return;
        kafka.retrying(() -> {
            DeleteTopicsRequest request = new DeleteTopicsRequest().setTopicNames(new ArrayList<>(topics))
                    .setTimeoutMs((int) TIMEOUT.toMillis());
            int controller = kafka.metadata(List.of()).controllerId();
            DeleteTopicsResponse response = kafka.send(controller, request);
            for (DeleteTopicsResponse.DeletableTopicResult result : response.responses) {
                // A topic deleted meanwhile is as good as deleted.
                Errors error = Errors.forCode(result.errorCode);
                if (error != Errors.NONE && error != Errors.UNKNOWN_TOPIC_OR_PARTITION) {
                    throw new KafkaClientException(error, "deleting topic '" + result.name + "': "
                            + (result.errorMessage == null ? error.message() : result.errorMessage));
                }
            }
            return null;
        });
    }

    private void resetZooKeeper() throws Exception {
        if (zookeeper == null) {
            zookeeper = ZkClient.builder(zookeeperConnect).sessionTimeout(TIMEOUT).build();
            zookeeper.connected().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        List<String> doomed = new ArrayList<>();
        List<String> level = new ArrayList<>();
        for (String child : await(zookeeper.getChildren("/", false))) {
            if (!kept.contains(child)) level.add("/" + child);
        }
        // Level by level, every read of one level in flight at once: the depth of the tree in round trips.
        while (!level.isEmpty()) {
            List<CompletableFuture<List<String>>> reads = new ArrayList<>();
            for (String path : level) reads.add(zookeeper.getChildren(path, false));
            List<String> next = new ArrayList<>();
            for (int i = 0; i < level.size(); i++) {
                try {
                    for (String child : await(reads.get(i))) next.add(level.get(i) + "/" + child);
                    doomed.add(level.get(i));
                } catch (ZkException e) {
                    if (e.code() != KeeperCode.NO_NODE) throw e; // gone meanwhile: an ephemeral of a closed session
                }
            }
            level = next;
        }
        // Children before parents (doomed lists parents first); every delete in flight at once (one group commit).
        List<CompletableFuture<Void>> deletes = new ArrayList<>();
        for (int i = doomed.size() - 1; i >= 0; i--) deletes.add(zookeeper.delete(doomed.get(i), -1));
        for (CompletableFuture<Void> delete : deletes) {
            try {
                await(delete);
            } catch (ZkException e) {
                // A node gone meanwhile (an ephemeral of a closed session) needs no delete.
                if (e.code() != KeeperCode.NO_NODE) throw e;
            }
        }
    }

    private static <T> T await(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Exception cause) throw cause;
            throw e;
        }
    }

    @Override
    public synchronized void close() {
        if (kafka != null) kafka.close();
        if (zookeeper != null) zookeeper.close();
        kafka = null;
        zookeeper = null;
    }
}
