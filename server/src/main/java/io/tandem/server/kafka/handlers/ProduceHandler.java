package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.compress.CompressionType;
import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse;
import io.tandem.kafka.wire.message.ProduceResponse.TopicProduceResponse;
import io.tandem.kafka.wire.message.ProduceResponse.PartitionProduceResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicConfigs;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.replica.LeaderFetch;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.purgatory.DelayedResponse;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.producer.VerificationGuard;

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Produce: validates and appends each partition's batches on the partition's leader, then wakes long-polling
 * fetches on them. acks=1 is answered after the leader's append; acks=all is refused before the append when the
 * ISR is smaller than min.insync.replicas (NOT_ENOUGH_REPLICAS) and otherwise answered once the ISR has the batch.
 *
 * <p>A transactional produce is first checked with the transaction coordinator where the producer has no
 * transaction open yet ({@link ProduceVerification}: KIP-890 part 1's verification up to v11, part 2's implicit add
 * from v12), and each such partition is appended only with the guard its verification was given, so a verification
 * that an abort overtook appends nothing.
 */
final class ProduceHandler implements ApiHandler<ProduceRequest> {
    private static final System.Logger LOG = System.getLogger(ProduceHandler.class.getName());
    private final KafkaBroker broker;

    ProduceHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, ProduceRequest request, Responder responder) {
        ProduceVerification.start(broker, context, request, responder,
                verified -> handle(context, request, responder, verified));
    }

    /** Whether a partition's records start with a transactional batch (v3+ requests carry one batch each). */
    static boolean hasTransactionalRecords(ProduceRequest request) {
        for (ProduceRequest.TopicProduceData topicData : request.topicData) {
            for (ProduceRequest.PartitionProduceData data : topicData.partitionData) {
                if (data.records == null || data.records.readableBytes() == 0
                        || RecordBatches.firstMagic(data.records) != RecordBatch.MAGIC) {
                    continue;
                }
                try {
                    if (RecordBatch.wrap(data.records).isTransactional()) return true;
                } catch (CorruptRecordException e) {
                    // Malformed: the append refuses it with its own error.
                }
            }
        }
        return false;
    }

    private void handle(RequestContext context, ProduceRequest request, Responder responder,
                        ProduceVerification.Outcome verified) {
        short version = context.apiVersion();
        ProduceResponse response = new ProduceResponse();
        boolean validAcks = request.acks == 0 || request.acks == 1 || request.acks == -1;
        List<TopicPartition> appended = new ArrayList<>();
        List<Pending> pending = new ArrayList<>();
        // The topic of each partition answer that reached the log's side, for the leaders KIP-951 names.
        Map<PartitionProduceResponse, String> topicOf = new IdentityHashMap<>();
        // Kafka refuses the whole request when it carries transactional records and its transactional id is missing
        // or not writable (KafkaApis.handleProduceRequest, RequestUtils.hasTransactionalRecords), each topic when it
        // is not writable; a transactional id beside non-transactional records is not checked.
        boolean transactionRefused = hasTransactionalRecords(request) && (request.transactionalId == null
                || !broker.authorization().transactionalId(context, AclOperation.WRITE, request.transactionalId));
        for (ProduceRequest.TopicProduceData topicData : request.topicData) {
            TopicProduceResponse topicResponse = new TopicProduceResponse();
            topicResponse.name = topicData.name;
            topicResponse.topicId = topicData.topicId;
            TopicInfo topic = version >= 13 ? broker.metadata().topicById(topicData.topicId)
                    : broker.metadata().knownTopic(topicData.name);
            String topicName = version >= 13 ? (topic == null ? null : topic.name()) : topicData.name;
            boolean writable = topicName == null || broker.authorization().topic(context, AclOperation.WRITE, topicName);
            for (ProduceRequest.PartitionProduceData data : topicData.partitionData) {
                PartitionProduceResponse partitionResponse = new PartitionProduceResponse();
                partitionResponse.index = data.index;
                partitionResponse.baseOffset = -1;
                if (transactionRefused) {
                    partitionResponse.errorCode = TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
                } else if (verified.requestError() != NONE) {
                    partitionResponse.errorCode = verified.requestError();
                } else if (!validAcks) {
                    partitionResponse.errorCode = INVALID_REQUIRED_ACKS;
                } else if (!writable) {
                    partitionResponse.errorCode = TOPIC_AUTHORIZATION_FAILED;
                } else if (topic == null) {
                    partitionResponse.errorCode = version >= 13 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION;
                } else if (TopicNames.isInternal(topic.name())) {
                    // Kafka's appendToLocalLog refuses it with an InvalidTopicException whose message it does not
                    // send (hasCustomErrorMessage = false), with no log start offset.
                    partitionResponse.errorCode = INVALID_TOPIC_EXCEPTION;
                } else if (!topic.replicas().containsKey(data.index)) {
                    partitionResponse.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else if (verified.errorFor(new TopicPartition(topic.name(), data.index)) != NONE) {
                    ProduceVerification.fail(partitionResponse, version,
                            verified.errorFor(new TopicPartition(topic.name(), data.index)));
                } else {
                    topicOf.put(partitionResponse, topic.name());
                    Pending waiting = append(topic, data, request.acks, version, partitionResponse, appended,
                            verified.guardFor(new TopicPartition(topic.name(), data.index)));
                    if (waiting != null) pending.add(waiting);
                }
                topicResponse.partitionResponses.add(partitionResponse);
            }
            response.responses.add(topicResponse);
        }
        for (TopicPartition tp : appended) broker.fetchPurgatory().checkAndComplete(tp);
        // The producer_byte_rate quota: the answer (none for acks=0) goes out at once, the connection is muted after.
        response.throttleTimeMs = broker.clientQuotas().throttleProduce(context);
        if (request.acks == 0) {
            responder.noResponse();
        } else if (pending.isEmpty()) {
            nameLeaders(context, response, topicOf);
            responder.send(response);
        } else {
            // acks=all: answered once the high watermark passes every appended batch (the ISR has them), when the
            // leadership moves, or at the request's timeout, in Kafka's delayed-produce purgatory.
            DelayedResponse delayed = new DelayedResponse(request.timeoutMs,
                    () -> pending.stream().allMatch(Pending::decided), () -> {
                        for (Pending p : pending) p.complete();
                        nameLeaders(context, response, topicOf);
                        responder.send(response);
                    }, responder::fail);
            broker.producePurgatory().tryCompleteElseWatch(delayed,
                    pending.stream().map(p -> p.partition.topicPartition()).toList());
        }
    }

    /**
     * Produce v10+ (KIP-951), as Kafka's handleProduceRequest: each partition answered NOT_LEADER_OR_FOLLOWER carries
     * its current leader and epoch, and the answer the endpoints of those leaders, so the producer sends the batch
     * again to the new leader without a Metadata round first. Filled when the answer is final, after a parked
     * acks=all append may have lost its leadership.
     */
    private void nameLeaders(RequestContext context, ProduceResponse response,
                             Map<PartitionProduceResponse, String> topicOf) {
        if (context.apiVersion() < 10) return;
        CurrentLeaders leaders = null;
        for (TopicProduceResponse topic : response.responses) {
            for (PartitionProduceResponse p : topic.partitionResponses) {
                String name = topicOf.get(p);
                if (p.errorCode != NOT_LEADER_OR_FOLLOWER || name == null) continue;
                if (leaders == null) leaders = new CurrentLeaders(broker, context.listenerName());
                CurrentLeaders.Leader leader = leaders.leader(name, p.index);
                p.currentLeader.leaderId = leader.leaderId();
                p.currentLeader.leaderEpoch = leader.leaderEpoch();
            }
        }
        if (leaders == null) return;
        for (CurrentLeaders.Endpoint e : leaders.endpoints()) {
            ProduceResponse.NodeEndpoint node = new ProduceResponse.NodeEndpoint();
            node.nodeId = e.nodeId();
            node.host = e.host();
            node.port = e.port();
            node.rack = e.rack();
            response.nodeEndpoints.add(node);
        }
    }

    /** An acks=all append waiting for its followers. */
    private record Pending(Partition partition, long requiredOffset, int minInsyncReplicas, PartitionProduceResponse out) {
        boolean decided() {
            return LeaderFetch.produceDecided(partition, requiredOffset);
        }

        /** Kafka's outcome: committed (unless the ISR fell below min.insync.replicas meanwhile), moved, or timed out. */
        void complete() {
            short error = LeaderFetch.produceOutcome(partition, requiredOffset, minInsyncReplicas);
            if (error == NONE) return;
            out.errorCode = error;
            out.errorMessage = null;
            out.baseOffset = -1;
            out.logAppendTimeMs = -1;
        }
    }

    /** Appends on the leader; returns what an acks=all answer must still wait for, or null. */
    /**
     * What Kafka's ProduceRequest.validateRecords refuses for a request version: no records at all (INVALID_RECORD),
     * and from v3 message format v0/v1 (INVALID_RECORD: only v0-2 carry message sets, which are up-converted) and,
     * below v7, zstd (UNSUPPORTED_COMPRESSION_TYPE). NONE otherwise; the rest is LogValidator's.
     */
    static short validateForVersion(ByteBuf records, short version) {
        if (records == null || records.readableBytes() == 0) return INVALID_RECORD;
        if (version < 3) return NONE;
        if (RecordBatches.firstMagic(records) != RecordBatch.MAGIC) return INVALID_RECORD;
        try {
            for (RecordBatch batch : RecordBatches.of(records, Integer.MAX_VALUE)) {
                if (batch.magic() != RecordBatch.MAGIC) return INVALID_RECORD;
                if (version < 7 && batch.compression() == CompressionType.ZSTD) return UNSUPPORTED_COMPRESSION_TYPE;
            }
        } catch (CorruptRecordException e) {
            // Framing is LogValidator's to refuse, with its own code.
            return NONE;
        }
        return NONE;
    }

    private Pending append(TopicInfo topic, ProduceRequest.PartitionProduceData data, short acks, short version,
                        PartitionProduceResponse out, List<TopicPartition> appended, VerificationGuard guard) {
        try {
            Partition partition = broker.leaderPartition(topic, data.index);
            short invalid = validateForVersion(data.records, version);
            if (invalid != NONE) {
                // Kafka's ProduceRequest.validateRecords: refused before the log sees it, with no message.
                out.errorCode = invalid;
                out.errorMessage = null;
                return null;
            }
            // Parsed once per topic config, not per partition per request.
            TopicConfigs.ProduceSettings settings = broker.topicConfigs().produceSettings(topic.configs());
            LogValidator validator = LogValidator.forClients(settings, System.currentTimeMillis());
            // Kafka's effectiveMinIsr: min.insync.replicas above the replication factor asks only for every
            // replica (acks=all to a topic of one replica with min.insync.replicas=2 is appended, not refused).
            int minInsyncReplicas = acks == -1
                    ? Math.min(settings.minInsyncReplicas(), topic.replicas().get(data.index).size()) : 0;
            Partition.AppendResult result = partition.append(data.records, validator, minInsyncReplicas, guard);
            out.errorCode = result.error();
            // Kafka's LogAppendResult keeps the exception's message only for a RecordValidationException (records
            // refused one by one, named in record_errors); every other refusal of the log (NOT_ENOUGH_REPLICAS,
            // RECORD_LIST_TOO_LARGE, MESSAGE_TOO_LARGE, CORRUPT_MESSAGE, the producer-state errors) goes out null.
            out.errorMessage = result.recordErrors().isEmpty() ? null : result.errorMessage();
            for (LogValidator.RecordError e : result.recordErrors()) {
                out.recordErrors.add(new ProduceResponse.BatchIndexAndErrorMessage()
                        .setBatchIndex(e.batchIndex()).setBatchIndexErrorMessage(e.message()));
            }
            out.baseOffset = result.error() == NONE ? result.baseOffset() : -1;
            out.logAppendTimeMs = result.error() == NONE ? result.logAppendTimeMs() : -1;
            // What Kafka's appendToLocalLog catches as expected of a log (not leader, batch above segment.bytes,
            // ...) is answered with UNKNOWN_LOG_APPEND_INFO: no log start offset.
            out.logStartOffset = result.error() == NOT_LEADER_OR_FOLLOWER || result.error() == RECORD_LIST_TOO_LARGE
                    || result.error() == KAFKA_STORAGE_ERROR ? -1 : result.logStartOffset();
            if (result.error() != NONE) return null;
            appended.add(partition.topicPartition());
            return acks == -1 ? new Pending(partition, result.lastOffset() + 1, minInsyncReplicas, out) : null;
        } catch (ApiException e) {
            // NOT_LEADER_OR_FOLLOWER (or UNKNOWN_TOPIC_OR_PARTITION) from the partition lookup: Kafka's
            // appendToLocalLog catches those with hasCustomErrorMessage = false, so the answer has no message.
            out.errorCode = e.error();
            out.errorMessage = null;
            return null;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Append to " + topic.name() + "-" + data.index + " failed", e);
            // Kafka's KafkaStorageException, answered without its message as the errors above.
            out.errorCode = KAFKA_STORAGE_ERROR;
            out.errorMessage = null;
        }
        return null;
    }
}
