package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.security.InterBrokerSecurity;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The partitions' end offsets DescribeShareGroupOffsets computes share-partition lag from, as Kafka 4.4's
 * PartitionMetadataClient (NetworkPartitionMetadataClient.listLatestOffsets): ListOffsets at the latest timestamp
 * with READ_UNCOMMITTED, so the high watermark, asked of each partition's leader, one request per leader. A partition
 * this broker leads is read here (the answer its own ListOffsets would give); one without a live leader is
 * LEADER_NOT_AVAILABLE and one of an unknown topic UNKNOWN_TOPIC_OR_PARTITION, as Kafka's; a request that fails is
 * NETWORK_EXCEPTION for its partitions at once, where Kafka's client retries a few times with backoff first. No thread waits: the answers come through the non-blocking
 * {@link InterBrokerClient}.
 */
public final class PartitionEndOffsets implements AutoCloseable {
    /** The newest ListOffsets version sent: Kafka's client negotiates the newest both ends serve. */
    static final short LIST_OFFSETS_VERSION = 11;
    /** The oldest usable: v4 is the first to answer with the leader epoch. */
    static final short LIST_OFFSETS_MIN_VERSION = 4;
    /** ListOffsets' timestamp for the latest offset (Kafka's ListOffsetsRequest.LATEST_TIMESTAMP). */
    static final long LATEST_TIMESTAMP = -1;
    /** A consumer's replica id: the leader answers from what consumers may read. */
    static final int CONSUMER_REPLICA_ID = -1;
    /** How long one request may take before its partitions are REQUEST_TIMED_OUT (Kafka's request.timeout.ms). */
    static final int REQUEST_TIMEOUT_MS = 30_000;

    /** A partition's end offset, or the error that kept it unknown (offset -1 then). */
    public record EndOffset(short error, long offset, int leaderEpoch) {
        static EndOffset failed(short error) {
            return new EndOffset(error, -1, -1);
        }
    }

    /** A partition this broker leads: its high watermark and leader epoch. */
    public record LocalEnd(long highWatermark, int leaderEpoch) {
    }

    private final ClusterMetadata metadata;
    /** The local end of a partition this broker leads, else null. */
    private final Function<TopicPartition, LocalEnd> local;
    private final InterBrokerClient client;

    public PartitionEndOffsets(int localBrokerId, ClusterMetadata metadata, Function<TopicPartition, LocalEnd> local,
                               InterBrokerSecurity security, InterBrokerTimeouts timeouts) {
        this.metadata = metadata;
        this.local = local;
        this.client = new InterBrokerClient(timeouts.setUp(InterBrokerClient.Settings.kafka("broker-" + localBrokerId
                + "-end-offsets", InterBrokerClient.Settings.KAFKA_MAX_IN_FLIGHT, REQUEST_TIMEOUT_MS)), security);
    }

    /** The end offsets of {@code partitions}, completed once every leader asked has answered (never failed). */
    public CompletableFuture<Map<TopicPartition, EndOffset>> latest(Set<TopicPartition> partitions) {
        Map<TopicPartition, EndOffset> known = new LinkedHashMap<>();
        Map<Integer, List<TopicPartition>> byLeader = new HashMap<>();
        Map<Integer, BrokerRegistration> live = new HashMap<>();
        for (BrokerRegistration b : metadata.liveBrokers()) live.put(b.brokerId(), b);
        for (TopicPartition tp : partitions) {
            LocalEnd here = local.apply(tp);
            if (here != null) {
                known.put(tp, new EndOffset(NONE, here.highWatermark(), here.leaderEpoch()));
                continue;
            }
            TopicInfo topic = metadata.knownTopic(tp.topic());
            if (topic == null || !topic.replicas().containsKey(tp.partition())) {
                known.put(tp, EndOffset.failed(UNKNOWN_TOPIC_OR_PARTITION));
                continue;
            }
            PartitionState state = topic.states().get(tp.partition());
            int leader = state == null ? -1 : state.leader();
            if (!live.containsKey(leader)) {
                known.put(tp, EndOffset.failed(LEADER_NOT_AVAILABLE));
                continue;
            }
            byLeader.computeIfAbsent(leader, id -> new ArrayList<>()).add(tp);
        }
        List<CompletableFuture<Map<TopicPartition, EndOffset>>> asked = new ArrayList<>();
        for (Map.Entry<Integer, List<TopicPartition>> e : byLeader.entrySet()) {
            List<TopicPartition> ofLeader = e.getValue();
            asked.add(client.send(live.get(e.getKey()), ApiKey.LIST_OFFSETS, LIST_OFFSETS_MIN_VERSION,
                            LIST_OFFSETS_VERSION, request(ofLeader))
                    .handle((answer, failure) -> failure != null
                            ? all(ofLeader, EndOffset.failed(failureError(failure)))
                            : answered(ofLeader, (ListOffsetsResponse) answer)));
        }
        return CompletableFuture.allOf(asked.toArray(new CompletableFuture<?>[0])).thenApply(v -> {
            Map<TopicPartition, EndOffset> result = new LinkedHashMap<>(known);
            for (CompletableFuture<Map<TopicPartition, EndOffset>> a : asked) result.putAll(a.join());
            return result;
        });
    }

    private static ListOffsetsRequest request(List<TopicPartition> partitions) {
        ListOffsetsRequest request = new ListOffsetsRequest();
        request.replicaId = CONSUMER_REPLICA_ID;
        request.isolationLevel = 0; // READ_UNCOMMITTED
        request.timeoutMs = REQUEST_TIMEOUT_MS;
        Map<String, ListOffsetsRequest.ListOffsetsTopic> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            ListOffsetsRequest.ListOffsetsPartition p = new ListOffsetsRequest.ListOffsetsPartition();
            p.partitionIndex = tp.partition();
            p.currentLeaderEpoch = -1;
            p.timestamp = LATEST_TIMESTAMP;
            byTopic.computeIfAbsent(tp.topic(), name -> {
                ListOffsetsRequest.ListOffsetsTopic t = new ListOffsetsRequest.ListOffsetsTopic();
                t.name = name;
                request.topics.add(t);
                return t;
            }).partitions.add(p);
        }
        return request;
    }

    /** Each partition from its part of the answer; one the answer leaves out is UNKNOWN_TOPIC_OR_PARTITION (Kafka's). */
    private static Map<TopicPartition, EndOffset> answered(List<TopicPartition> asked, ListOffsetsResponse response) {
        Map<TopicPartition, EndOffset> result = all(asked, EndOffset.failed(UNKNOWN_TOPIC_OR_PARTITION));
        for (ListOffsetsResponse.ListOffsetsTopicResponse t : response.topics) {
            for (ListOffsetsResponse.ListOffsetsPartitionResponse p : t.partitions) {
                TopicPartition tp = new TopicPartition(t.name, p.partitionIndex);
                if (!result.containsKey(tp)) continue;
                result.put(tp, p.errorCode == NONE ? new EndOffset(NONE, p.offset, p.leaderEpoch)
                        : EndOffset.failed(p.errorCode));
            }
        }
        return result;
    }

    private static Map<TopicPartition, EndOffset> all(List<TopicPartition> partitions, EndOffset value) {
        Map<TopicPartition, EndOffset> result = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) result.put(tp, value);
        return result;
    }

    /** A failed authentication its Kafka error; a lost, refused or timed-out request NETWORK_EXCEPTION. */
    private static short failureError(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InterBrokerClient.AuthenticationFailure auth) return auth.error();
            // Kafka's client: a version mismatch is UNSUPPORTED_VERSION, not retried.
            if (t instanceof InterBrokerClient.UnsupportedVersion) return UNSUPPORTED_VERSION;
        }
        return NETWORK_EXCEPTION;
    }

    @Override
    public void close() {
        client.close();
    }
}
