package io.tandem.server;

import io.tandem.kafka.client.ClientSecurity;
import io.tandem.kafka.client.ClusterMetadata;
import io.tandem.kafka.client.KafkaClient;
import io.tandem.kafka.client.KafkaClientException;
import io.tandem.kafka.client.TopicInfo;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.DeleteGroupsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsRequest;
import io.tandem.kafka.wire.message.DeleteTopicsResponse;
import io.tandem.kafka.wire.message.ListGroupsRequest;
import io.tandem.kafka.wire.message.ListGroupsResponse;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Puts a running node (or cluster) back to empty between tests, through the protocols as any client would: every topic
 * but Kafka's internal ones is deleted (one DeleteTopics request, then until the controller has removed them),
 * every consumer group with its offsets, and every znode a test made (all but {@code /zookeeper} and, where brokers
 * keep their metadata in this ZooKeeper, Kafka's own layout). The connections are kept from one reset to the next, so
 * a reset costs the round trips only. A group that still has members is left (Kafka refuses to delete it): a test
 * closes its consumers.
 *
 * <p>The three parts (topics, groups, znodes) touch disjoint state, so they run at once, each over its own connection
 * (the small Kafka client is not thread-safe): a reset then lasts as long as its slowest part, the topic deletion,
 * instead of the sum, and the ZooKeeper writes of the znode part share group commits (one fsync) with those of the
 * topic deletion. On a loaded machine every round trip and thread hand-off costs scheduling delay, so each part also
 * makes as few as it can: one Metadata request, ListGroups and one DeleteGroups per broker (no FindCoordinator).
 */
final class NodeReset implements AutoCloseable {
    /** How long one reset may wait for the servers. */
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String bootstrapServers;
    private final String zookeeperConnect;
    /** Top-level znodes a reset keeps. */
    private final Set<String> kept = new TreeSet<>();
    private final ClientSecurity kafkaSecurity;
    private KafkaClient kafka;
    /** The groups part's own connection, used from {@link #worker}. */
    private KafkaClient groupsKafka;
    private ZkClient zookeeper;
    /** Whether the brokers keep their znodes in {@link #zookeeper}'s ensemble: a topic deletion can be watched there. */
    private final boolean kafkaMetadataHere;
    /** Moves on at each change of {@code /admin/delete_topics}'s children seen by {@link #zookeeper}'s watch. */
    private final java.util.concurrent.atomic.AtomicLong deletionRequestsChanged = new java.util.concurrent.atomic.AtomicLong();
    /** Runs the groups and znode parts beside the topic part (two daemon threads, kept between resets). */
    private ExecutorService worker;

    /**
     * Either address may be null (that role is not reset); {@code kafkaSecurity}: how to speak to that listener (the
     * broker's inter-broker TLS and SASL); {@code kafkaMetadataHere}: brokers keep their znodes there.
     */
    NodeReset(String bootstrapServers, ClientSecurity kafkaSecurity, String zookeeperConnect,
              boolean kafkaMetadataHere) {
        this.bootstrapServers = bootstrapServers;
        this.kafkaSecurity = kafkaSecurity;
        this.zookeeperConnect = zookeeperConnect;
        this.kafkaMetadataHere = kafkaMetadataHere && zookeeperConnect != null;
        kept.add("zookeeper");
        if (kafkaMetadataHere) {
            List<String> layout = new ArrayList<>(KafkaZkLayout.PERSISTENT_PATHS);
            layout.addAll(List.of(KafkaZkLayout.CLUSTER_ID, KafkaZkLayout.CONTROLLER, KafkaZkLayout.CONTROLLER_EPOCH,
                    KafkaZkLayout.BROKERS, KafkaZkLayout.CONFIG, KafkaZkLayout.ADMIN, KafkaZkLayout.FEATURE));
            for (String path : layout) kept.add(path.substring(1).split("/")[0]);
        }
    }

    synchronized void reset() throws Exception {
        if (worker == null) {
            worker = Executors.newFixedThreadPool(2, task -> {
                Thread thread = new Thread(task, "tandem-reset");
                thread.setDaemon(true);
                return thread;
            });
        }
        // Opened here, before the parts run: the znode part and the topic part's wait both use it.
        if (zookeeperConnect != null && zookeeper == null) {
            zookeeper = ZkClient.builder(zookeeperConnect).sessionTimeout(TIMEOUT).watcher(event -> {
                if (KafkaZkLayout.DELETE_TOPICS.equals(event.path())) {
                    synchronized (deletionRequestsChanged) {
                        deletionRequestsChanged.incrementAndGet();
                        deletionRequestsChanged.notifyAll();
                    }
                }
            }).build();
            zookeeper.connected().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
        List<Future<?>> parts = new ArrayList<>();
        if (zookeeperConnect != null) parts.add(worker.submit(() -> {
            resetZooKeeper();
            return null;
        }));
        if (bootstrapServers != null) parts.add(worker.submit(() -> {
            resetGroups();
            return null;
        }));
        Exception failed = null;
        try {
            if (bootstrapServers != null) resetTopics();
        } catch (Exception e) {
            failed = e;
        }
        // Every part is waited for, so none outlives this call; the first failure is the one reported.
        for (Future<?> part : parts) {
            try {
                part.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                Exception cause = e.getCause() instanceof Exception c ? c : e;
                if (failed == null) failed = cause;
                else failed.addSuppressed(cause);
            } catch (TimeoutException e) {
                part.cancel(true);
                if (failed == null) failed = e;
            }
        }
        if (failed != null) throw failed;
    }

    /** Every group each broker lists, deleted by that broker (it coordinates what it lists) in one request. */
    private void resetGroups() {
        if (groupsKafka == null) groupsKafka = client("tandem-reset-groups");
        for (int broker : groupsKafka.brokers().keySet()) {
            ListGroupsResponse listed = groupsKafka.retrying(() -> {
                ListGroupsResponse r = groupsKafka.send(broker, new ListGroupsRequest());
                Errors error = Errors.forCode(r.errorCode);
                if (error != Errors.NONE) {
                    throw new KafkaClientException(error, "ListGroups on broker " + broker + ": " + error.message());
                }
                return r;
            });
            List<String> names = new ArrayList<>();
            for (ListGroupsResponse.ListedGroup group : listed.groups) names.add(group.groupId);
            if (names.isEmpty()) continue;
            // Per-group errors are left: NON_EMPTY_GROUP (members left running), or a group gone or moved meanwhile.
            groupsKafka.send(broker, new DeleteGroupsRequest().setGroupsNames(names));
        }
    }

    private KafkaClient client(String clientId) {
        return KafkaClient.builder(bootstrapServers).clientId(clientId).requestTimeout(TIMEOUT).security(kafkaSecurity)
                .build();
    }

    private void resetTopics() throws Exception {
        if (kafka == null) kafka = client("tandem-reset");
        ClusterMetadata metadata = kafka.metadata(null);
        List<String> topics = new ArrayList<>();
        for (TopicInfo topic : metadata.topics().values()) {
            if (!topic.internal()) topics.add(topic.name());
        }
        if (topics.isEmpty()) return;
        int[] controller = {metadata.controllerId()};
        kafka.retrying(() -> {
            DeleteTopicsRequest request = new DeleteTopicsRequest().setTopicNames(new ArrayList<>(topics))
                    .setTimeoutMs((int) TIMEOUT.toMillis());
            // The controller the first Metadata named; asked again only when it has moved (a retry).
            if (controller[0] < 0) controller[0] = kafka.metadata(List.of()).controllerId();
            // A broker names no controller until the controller's UpdateMetadata reached it (Kafka's cache learns it
            // only so); Kafka's Admin client waits for one, and so does this, by asking again.
            if (controller[0] < 0) throw new KafkaClientException(Errors.NOT_CONTROLLER, "no controller known yet");
            DeleteTopicsResponse response;
            try {
                response = kafka.send(controller[0], request);
            } catch (KafkaClientException e) {
                controller[0] = -1;
                throw e;
            }
            for (DeleteTopicsResponse.DeletableTopicResult result : response.responses) {
                // A topic deleted meanwhile is as good as deleted.
                Errors error = Errors.forCode(result.errorCode);
                if (error != Errors.NONE && error != Errors.UNKNOWN_TOPIC_OR_PARTITION) {
                    if (error == Errors.NOT_CONTROLLER) controller[0] = -1;
                    throw new KafkaClientException(error, "deleting topic '" + result.name + "': "
                            + (result.errorMessage == null ? error.message() : result.errorMessage));
                }
            }
            return null;
        });
        if (kafkaMetadataHere) {
            awaitDeletionRequestsGone(topics);
        } else {
            awaitNamesFree(topics, controller[0]);
        }
    }

    /**
     * Where the brokers' znodes are in reach, the wait for the names is a watch on {@code /admin/delete_topics}: the
     * controller removes a topic's request last, with (or after) its other znodes, once every replica is deleted,
     * and the brokers forgot the topic before DeleteTopics answered; so a name whose request is gone can be taken
     * again. The watch wakes this thread as the controller's delete is applied, instead of a probe every few ms.
     */
    private void awaitDeletionRequestsGone(List<String> topics) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            long seen = deletionRequestsChanged.get();
            List<String> pending;
            try {
                pending = await(zookeeper.getChildren(KafkaZkLayout.DELETE_TOPICS, true));
            } catch (ZkException e) {
                if (e.code() != KeeperCode.NO_NODE) throw e;
                return;
            }
            if (java.util.Collections.disjoint(pending, topics)) return;
            synchronized (deletionRequestsChanged) {
                while (deletionRequestsChanged.get() == seen) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new TimeoutException("topics still being deleted after " + TIMEOUT.toMillis() + " ms: "
                                + topics);
                    }
                    TimeUnit.NANOSECONDS.timedWait(deletionRequestsChanged, left);
                }
            }
        }
    }

    /**
     * DeleteTopics answers once the brokers forgot the topics, as Kafka's does; the controller removes their znodes
     * only when every replica is deleted, and until then a topic of the same name is refused ("marked for
     * deletion"). A reset is over when the names can be taken again: asked as a validate-only creation, which
     * creates nothing, until none is refused as existing.
     */
    private void awaitNamesFree(List<String> topics, int controller) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        List<CreateTopicsRequest.CreatableTopic> creatable = new ArrayList<>();
        for (String name : topics) {
            creatable.add(new CreateTopicsRequest.CreatableTopic().setName(name).setNumPartitions(1)
                    .setReplicationFactor((short) 1));
        }
        CreateTopicsRequest probe = new CreateTopicsRequest().setTopics(creatable)
                .setTimeoutMs((int) TIMEOUT.toMillis()).setValidateOnly(true);
        int target = controller;
        while (true) {
            if (target < 0) target = kafka.metadata(List.of()).controllerId();
            // No controller known yet (see resetTopics): asked again below, like one answering NOT_CONTROLLER.
            CreateTopicsResponse answer = target < 0 ? new CreateTopicsResponse() : kafka.send(target, probe);
            boolean pending = false;
            for (CreateTopicsResponse.CreatableTopicResult result : answer.topics) {
                if (result.errorCode == Errors.TOPIC_ALREADY_EXISTS.code()) pending = true;
                if (result.errorCode == Errors.NOT_CONTROLLER.code()) target = -1;
            }
            if (!pending && target >= 0) return;
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("topics still being deleted after " + TIMEOUT.toMillis() + " ms: " + topics);
            }
            Thread.sleep(5);
        }
    }

    private void resetZooKeeper() throws Exception {
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
        if (worker != null) worker.shutdownNow();
        if (kafka != null) kafka.close();
        if (groupsKafka != null) groupsKafka.close();
        if (zookeeper != null) zookeeper.close();
        worker = null;
        kafka = null;
        groupsKafka = null;
        zookeeper = null;
    }
}
