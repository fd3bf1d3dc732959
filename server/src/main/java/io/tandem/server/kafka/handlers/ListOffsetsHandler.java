package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.kafka.wire.message.ListOffsetsResponse.ListOffsetsTopicResponse;
import io.tandem.kafka.wire.message.ListOffsetsResponse.ListOffsetsPartitionResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.replica.LeaderFetch;
import io.tandem.storage.log.TimestampAndOffset;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Optional;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * ListOffsets: earliest (-2), latest (-1), max timestamp (-3), earliest local (-4) or the first offset at a time;
 * read_committed (v2+) sees the log up to the last stable offset (latest is the LSO).
 */
final class ListOffsetsHandler implements ApiHandler<ListOffsetsRequest> {
    static final long LATEST = -1;
    static final long EARLIEST = -2;
    static final long MAX_TIMESTAMP = -3;
    static final long EARLIEST_LOCAL = -4;
    static final long LATEST_TIERED = -5;
    /** ListOffsetsRequest.CONSUMER_REPLICA_ID: a client; any other replica id is a broker (or a debugging tool). */
    static final int CONSUMER_REPLICA_ID = -1;
    /** ListOffsetsRequest.DEBUGGING_REPLICA_ID: a tool that may read from any replica, not only the leader. */
    static final int DEBUGGING_REPLICA_ID = -2;
    private final KafkaBroker broker;

    ListOffsetsHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ListOffsetsRequest request, Responder responder) {
        short version = context.apiVersion();
        ListOffsetsResponse response = new ListOffsetsResponse();
        // One snapshot for every topic of the request, as for Metadata.
        io.tandem.server.kafka.metadata.MetadataCache.Snapshot view = broker.metadata().snapshot();
        for (ListOffsetsRequest.ListOffsetsTopic topicRequest : request.topics) {
            ListOffsetsTopicResponse topicResponse = new ListOffsetsTopicResponse();
            topicResponse.name = topicRequest.name;
            TopicInfo topic = view.topic(topicRequest.name);
            boolean allowed = broker.authorization().topic(context, AclOperation.DESCRIBE, topicRequest.name);
            for (ListOffsetsRequest.ListOffsetsPartition p : topicRequest.partitions) {
                ListOffsetsPartitionResponse out = new ListOffsetsPartitionResponse();
                out.partitionIndex = p.partitionIndex;
                try {
                    if (!allowed) {
                        out.errorCode = TOPIC_AUTHORIZATION_FAILED;
                    } else if (topic == null || !topic.replicas().containsKey(p.partitionIndex)) {
                        out.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                    } else {
                        // As Kafka's ReplicaManager.fetchOffsetForTimestamp: a broker without its replica says
                        // NOT_LEADER_OR_FOLLOWER (getPartitionOrException); a replica checks the client's epoch
                        // (v4+; -1 asks for no check) before the leadership (Partition.localLogWithEpochOrThrow), so
                        // a follower fences a stale client rather than send it to the leader with its stale epoch.
                        // Only a debugging request (replica id -2) may be answered by a follower.
                        Partition partition = CurrentLeaders.hostedReplica(broker, topic, p.partitionIndex);
                        if (partition == null) throw new ApiException(NOT_LEADER_OR_FOLLOWER, null);
                        short error = LeaderFetch.requestEpochError(partition, p.currentLeaderEpoch,
                                request.replicaId != DEBUGGING_REPLICA_ID);
                        if (error != NONE) throw new ApiException(error, null);
                        lookup(partition, p.timestamp, request.isolationLevel,
                                request.replicaId != CONSUMER_REPLICA_ID, out);
                    }
                } catch (ApiException e) {
                    out.errorCode = e.error();
                } catch (IOException e) {
                    out.errorCode = KAFKA_STORAGE_ERROR;
                }
                if (version == 0) {
                    out.oldStyleOffsets = new ArrayList<>();
                    if (out.errorCode == NONE && out.offset >= 0) out.oldStyleOffsets.add(out.offset);
                }
                topicResponse.partitions.add(out);
            }
            response.topics.add(topicResponse);
        }
        responder.send(response);
    }

    /**
     * {@code fromReplica}: a follower asks (its fetcher's offset was out of range); as Kafka's KafkaApis gives a
     * non-consumer no isolation level, what it may see ends at the log end, not the high watermark.
     */
    private static void lookup(Partition partition, long timestamp, byte isolationLevel, boolean fromReplica,
                               ListOffsetsPartitionResponse out) throws IOException {
        out.errorCode = NONE;
        out.leaderEpoch = partition.leaderEpoch();
        out.timestamp = -1;
        if (timestamp == LATEST || timestamp == LATEST_TIERED) {
            out.offset = fromReplica ? partition.logEndOffset()
                    : isolationLevel == 1 ? partition.lastStableOffset() : partition.highWatermark();
        } else if (timestamp == EARLIEST || timestamp == EARLIEST_LOCAL) {
            out.offset = partition.logStartOffset();
        } else {
            Optional<TimestampAndOffset> found = timestamp == MAX_TIMESTAMP ? partition.log().offsetOfMaxTimestamp()
                    : partition.log().offsetForTimestamp(timestamp);
            // Only what the isolation level may read counts: below the LSO for read_committed, as in Kafka.
            long lastFetchable = fromReplica ? partition.logEndOffset()
                    : isolationLevel == 1 ? partition.lastStableOffset() : partition.highWatermark();
            if (found.isPresent() && found.get().offset() < lastFetchable) {
                out.offset = found.get().offset();
                out.timestamp = found.get().timestamp();
                out.leaderEpoch = found.get().leaderEpoch();
            } else {
                out.offset = -1;
                out.leaderEpoch = -1;
            }
        }
    }
}
