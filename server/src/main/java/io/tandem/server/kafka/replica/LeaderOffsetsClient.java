package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.network.InterBrokerClient;

import java.io.IOException;
import java.util.function.Supplier;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * A follower fetcher's questions to its leader about a partition's offsets, as Kafka 3.9's RemoteLeaderEndPoint
 * fetchLatestOffset / fetchEarliestOffset: one ListOffsets from the replica (replica id = this broker, so the leader
 * answers its log end, not its high watermark), at the partition's current leader epoch, on the fetcher's own
 * connection and thread, waiting for the answer (replica.socket.timeout.ms bounds it).
 */
final class LeaderOffsetsClient implements FollowerFetch.LeaderOffsets {
    /** Kafka 3.9's ListOffsets version for inter.broker.protocol.version 3.9 (MetadataVersion). */
    static final short LIST_OFFSETS_VERSION = 9;
    /** ListOffsetsRequest.LATEST_TIMESTAMP / EARLIEST_TIMESTAMP. */
    static final long LATEST_TIMESTAMP = -1;
    static final long EARLIEST_TIMESTAMP = -2;

    private final int localBrokerId;
    private final Supplier<BrokerRegistration> leader;
    private final InterBrokerClient client;

    LeaderOffsetsClient(int localBrokerId, Supplier<BrokerRegistration> leader, InterBrokerClient client) {
        this.localBrokerId = localBrokerId;
        this.leader = leader;
        this.client = client;
    }

    @Override
    public long latest(TopicPartition tp, int currentLeaderEpoch) throws FollowerFetch.LeaderOffsetsException {
        return offset(tp, currentLeaderEpoch, LATEST_TIMESTAMP);
    }

    @Override
    public long earliest(TopicPartition tp, int currentLeaderEpoch) throws FollowerFetch.LeaderOffsetsException {
        return offset(tp, currentLeaderEpoch, EARLIEST_TIMESTAMP);
    }

    private long offset(TopicPartition tp, int currentLeaderEpoch, long timestamp)
            throws FollowerFetch.LeaderOffsetsException {
        ListOffsetsRequest request = new ListOffsetsRequest();
        request.replicaId = localBrokerId;
        request.isolationLevel = 0;
        ListOffsetsRequest.ListOffsetsPartition partition = new ListOffsetsRequest.ListOffsetsPartition();
        partition.partitionIndex = tp.partition();
        partition.currentLeaderEpoch = currentLeaderEpoch;
        partition.timestamp = timestamp;
        ListOffsetsRequest.ListOffsetsTopic topic = new ListOffsetsRequest.ListOffsetsTopic();
        topic.name = tp.topic();
        topic.partitions.add(partition);
        request.topics.add(topic);
        BrokerRegistration to = leader.get();
        ListOffsetsResponse response;
        try {
            response = (ListOffsetsResponse) client.sendAndReceive(to, ApiKey.LIST_OFFSETS, LIST_OFFSETS_VERSION,
                    request);
        } catch (IOException | RuntimeException e) {
            throw new FollowerFetch.LeaderOffsetsException((short) -1, "ListOffsets to broker " + to.brokerId()
                    + " failed: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new FollowerFetch.LeaderOffsetsException((short) -1, "interrupted while asking broker "
                    + to.brokerId() + " for offsets", e);
        }
        for (ListOffsetsResponse.ListOffsetsTopicResponse t : response.topics) {
            if (!t.name.equals(tp.topic())) continue;
            for (ListOffsetsResponse.ListOffsetsPartitionResponse p : t.partitions) {
                if (p.partitionIndex != tp.partition()) continue;
                if (p.errorCode != NONE) {
                    throw new FollowerFetch.LeaderOffsetsException(p.errorCode, "broker " + to.brokerId()
                            + " answered ListOffsets for " + tp + " with error " + p.errorCode, null);
                }
                return p.offset;
            }
        }
        throw new FollowerFetch.LeaderOffsetsException((short) -1, "broker " + to.brokerId()
                + " left " + tp + " out of its ListOffsets answer", null);
    }
}
