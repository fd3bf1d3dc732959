package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.kafka.wire.message.WriteTxnMarkersRequest;
import io.tandem.kafka.wire.message.WriteTxnMarkersResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.purgatory.DelayedResponse;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The partition leader's side of WriteTxnMarkers (Kafka's handleWriteTxnMarkersRequest): appends each COMMIT or
 * ABORT marker to the partitions this broker leads and answers once every append is replicated (acks=all), the
 * leadership moved or the timeout passed. Markers on {@code __consumer_offsets} partitions that land make the
 * group coordinator apply (commit) or drop (abort) the producer's transactional offsets. Used by the
 * WriteTxnMarkers handler for other brokers' coordinators and in-process by this broker's own.
 */
public final class TransactionMarkerWriter {
    private static final System.Logger LOG = System.getLogger(TransactionMarkerWriter.class.getName());
    private final KafkaBroker broker;

    public TransactionMarkerWriter(KafkaBroker broker) {
        this.broker = broker;
    }

    /** One marker appended and waiting for its ISR. */
    private record Pending(Partition partition, long requiredOffset, int minInsyncReplicas, long producerId,
                           boolean commit, WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult out) {
        boolean decided() {
            return !partition.isLeader() || partition.highWatermark() >= requiredOffset;
        }

        short outcome() {
            if (!partition.isLeader()) return NOT_LEADER_OR_FOLLOWER;
            if (partition.highWatermark() < requiredOffset) return REQUEST_TIMED_OUT;
            if (partition.inSyncReplicas().size() < minInsyncReplicas) return NOT_ENOUGH_REPLICAS_AFTER_APPEND;
            return NONE;
        }
    }

    /** Appends every marker of the request; {@code then} gets the answer (on whichever thread decides it). */
    public void write(WriteTxnMarkersRequest request, long timeoutMs, Consumer<WriteTxnMarkersResponse> then) {
        WriteTxnMarkersResponse response = new WriteTxnMarkersResponse();
        List<Pending> pending = new ArrayList<>();
        Set<TopicPartition> appended = new LinkedHashSet<>();
        long now = System.currentTimeMillis();
        for (WriteTxnMarkersRequest.WritableTxnMarker marker : request.markers) {
            WriteTxnMarkersResponse.WritableTxnMarkerResult result = new WriteTxnMarkersResponse.WritableTxnMarkerResult();
            result.producerId = marker.producerId;
            for (WriteTxnMarkersRequest.WritableTxnMarkerTopic topicMarker : marker.topics) {
                WriteTxnMarkersResponse.WritableTxnMarkerTopicResult topicResult =
                        new WriteTxnMarkersResponse.WritableTxnMarkerTopicResult();
                topicResult.name = topicMarker.name;
                TopicInfo topic = broker.metadata().topic(topicMarker.name);
                for (int index : topicMarker.partitionIndexes) {
                    WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult out =
                            new WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult();
                    out.partitionIndex = index;
                    topicResult.partitions.add(out);
                    if (topic == null || !topic.replicas().containsKey(index)) {
                        out.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                        continue;
                    }
                    Pending p = append(topic, index, marker, now, out);
                    if (p != null) {
                        pending.add(p);
                        appended.add(p.partition().topicPartition());
                    }
                }
                result.topics.add(topicResult);
            }
            response.markers.add(result);
        }
        // Markers move the last stable offset: read_committed long polls on these partitions re-check.
        for (TopicPartition tp : appended) broker.highWatermarkMoved(tp);
        if (pending.isEmpty()) {
            then.accept(response);
            return;
        }
        DelayedResponse delayed = new DelayedResponse(timeoutMs, () -> pending.stream().allMatch(Pending::decided), () -> {
            List<Pending> committedOffsets = new ArrayList<>();
            for (Pending p : pending) {
                p.out().errorCode = p.outcome();
                if (p.out().errorCode == NONE
                        && p.partition().topicPartition().topic().equals(TopicNames.CONSUMER_OFFSETS)) {
                    committedOffsets.add(p);
                }
            }
            // As soon as the marker of a transactional offset commit is in, the group's offsets reflect it.
            for (Pending p : committedOffsets) {
                broker.groups().completeTransactionalOffsets(p.producerId(), p.commit(),
                        p.partition().topicPartition().partition(), broker.config().offsetsTopicPartitions());
            }
            then.accept(response);
        });
        broker.producePurgatory().tryCompleteElseWatch(delayed, List.copyOf(appended));
    }

    private Pending append(TopicInfo topic, int index, WriteTxnMarkersRequest.WritableTxnMarker marker, long now,
                           WriteTxnMarkersResponse.WritableTxnMarkerPartitionResult out) {
        try {
            Partition partition = broker.leaderPartition(topic, index);
            int minInsyncReplicas = Integer.parseInt(
                    broker.topicConfigs().value(topic.configs(), "min.insync.replicas").trim());
            // WriteTxnMarkers v2 names the transaction version; before v2 it reads as 0.
            Partition.AppendResult result = partition.appendTransactionMarker(marker.producerId, marker.producerEpoch,
                    marker.coordinatorEpoch, marker.transactionResult, now, minInsyncReplicas,
                    Features.supportsEpochBump(marker.transactionVersion));
            out.errorCode = result.error();
            if (result.error() != NONE) return null;
            return new Pending(partition, result.lastOffset() + 1, minInsyncReplicas, marker.producerId,
                    marker.transactionResult, out);
        } catch (ApiException e) {
            out.errorCode = e.error();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Marker append to " + topic.name() + "-" + index + " failed", e);
            out.errorCode = KAFKA_STORAGE_ERROR;
        }
        return null;
    }
}
