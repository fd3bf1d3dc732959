package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
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

import java.io.IOException;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * Produce: validates and appends each partition's batches on the partition's leader, then wakes long-polling
 * fetches on them. acks=1 is answered after the leader's append; acks=all is refused before the append when the
 * ISR is smaller than min.insync.replicas (NOT_ENOUGH_REPLICAS) and otherwise answered once the ISR has the batch.
 *
 * <p>From v12 a transactional produce is transaction version 2's (KIP-890 part 2): a partition where the producer
 * has no transaction open at its epoch is first added to the transaction through the coordinator
 * ({@link io.tandem.server.kafka.txn.ImplicitPartitionAdder}), and appended only once that succeeded; a failed add
 * answers that partition with Kafka's mapping of the coordinator's error.
 */
final class ProduceHandler implements ApiHandler<ProduceRequest> {
    private static final System.Logger LOG = System.getLogger(ProduceHandler.class.getName());
    private final KafkaBroker broker;

    ProduceHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    /** Kafka's first Produce version whose transactional batches add their partitions (transaction version 2). */
    static final short FIRST_ADD_PARTITION_VERSION = 12;

    @Override
    public void handle(RequestContext context, ProduceRequest request, Responder responder) {
        short version = context.apiVersion();
        if (version >= FIRST_ADD_PARTITION_VERSION && request.transactionalId != null) {
            TransactionalPartitions toAdd = partitionsToAdd(context, request);
            if (toAdd != null) {
                broker.transactions().partitionAdder().add(request.transactionalId, toAdd.producerId,
                        toAdd.producerEpoch, toAdd.partitions, errors -> handle(context, request, responder, errors));
                return;
            }
        }
        handle(context, request, responder, Map.of());
    }

    /** A version 2 producer's partitions its transaction does not hold yet, with its producer id and epoch. */
    private record TransactionalPartitions(long producerId, short producerEpoch, Set<TopicPartition> partitions) {
    }

    /** The partitions to add before appending, or null when every one is in the transaction already. */
    private TransactionalPartitions partitionsToAdd(RequestContext context, ProduceRequest request) {
        // Refused requests and topics are answered without touching the transaction, as in Kafka (authorization
        // comes before the verification).
        if (!broker.authorization().transactionalId(context, AclOperation.WRITE, request.transactionalId)
                || !(request.acks == 0 || request.acks == 1 || request.acks == -1)) {
            return null;
        }
        short version = context.apiVersion();
        long producerId = -1;
        short producerEpoch = -1;
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        for (ProduceRequest.TopicProduceData topicData : request.topicData) {
            TopicInfo topic = version >= 13 ? broker.metadata().topicById(topicData.topicId)
                    : broker.metadata().knownTopic(topicData.name);
            if (topic == null || TopicNames.isInternal(topic.name())
                    || !broker.authorization().topic(context, AclOperation.WRITE, topic.name())) {
                continue;
            }
            for (ProduceRequest.PartitionProduceData data : topicData.partitionData) {
                if (!topic.replicas().containsKey(data.index) || data.records == null) continue;
                RecordBatch first;
                try {
                    first = RecordBatch.wrap(data.records);
                } catch (CorruptRecordException e) {
                    // Malformed or an old message format: the append refuses it with its own error.
                    continue;
                }
                if (!first.isTransactional()) continue;
                Partition partition = broker.logs().get(new TopicPartition(topic.name(), data.index));
                if (partition == null || !partition.isLeader()) continue;
                if (partition.hasOngoingTransaction(first.producerId(), first.producerEpoch())) continue;
                producerId = first.producerId();
                producerEpoch = first.producerEpoch();
                partitions.add(partition.topicPartition());
            }
        }
        return partitions.isEmpty() ? null : new TransactionalPartitions(producerId, producerEpoch, partitions);
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

    /**
     * Kafka's translation of a failed implicit add for the producer (ReplicaManager): a partition not in the
     * transaction is INVALID_TXN_STATE with Kafka's message; coordinator trouble becomes the retriable
     * NOT_ENOUGH_REPLICAS (which triggers no metadata refresh); CONCURRENT_TRANSACTIONS, common while the previous
     * transaction completes, stays as it is for version 2 producers.
     */
    static void failAdd(PartitionProduceResponse out, short error) {
        out.errorCode = error;
        out.errorMessage = null;
        if (error == INVALID_TXN_STATE) {
            out.errorMessage = "Partition was not added to the transaction";
        } else if (error == NETWORK_EXCEPTION || error == COORDINATOR_LOAD_IN_PROGRESS
                || error == COORDINATOR_NOT_AVAILABLE || error == NOT_COORDINATOR) {
            out.errorCode = NOT_ENOUGH_REPLICAS;
            out.errorMessage = "Unable to verify the partition has been added to the transaction. Underlying error: "
                    + Errors.forCode(error).name();
        }
    }

    private void handle(RequestContext context, ProduceRequest request, Responder responder,
                        Map<TopicPartition, Short> addErrors) {
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
                } else if (!validAcks) {
                    partitionResponse.errorCode = INVALID_REQUIRED_ACKS;
                } else if (!writable) {
                    partitionResponse.errorCode = TOPIC_AUTHORIZATION_FAILED;
                } else if (topic == null) {
                    partitionResponse.errorCode = version >= 13 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION;
                } else if (TopicNames.isInternal(topic.name())) {
                    partitionResponse.errorCode = INVALID_TOPIC_EXCEPTION;
                    partitionResponse.errorMessage = "Cannot append to internal topic " + topic.name();
                } else if (!topic.replicas().containsKey(data.index)) {
                    partitionResponse.errorCode = UNKNOWN_TOPIC_OR_PARTITION;
                } else if (addErrors.getOrDefault(new TopicPartition(topic.name(), data.index), NONE) != NONE) {
                    failAdd(partitionResponse, addErrors.get(new TopicPartition(topic.name(), data.index)));
                } else {
                    topicOf.put(partitionResponse, topic.name());
                    Pending waiting = append(topic, data, request.acks, version, partitionResponse, appended);
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
                        PartitionProduceResponse out, List<TopicPartition> appended) {
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
            int minInsyncReplicas = acks == -1 ? settings.minInsyncReplicas() : 0;
            Partition.AppendResult result = partition.append(data.records, validator, minInsyncReplicas);
            out.errorCode = result.error();
            out.errorMessage = result.errorMessage();
            for (LogValidator.RecordError e : result.recordErrors()) {
                out.recordErrors.add(new ProduceResponse.BatchIndexAndErrorMessage()
                        .setBatchIndex(e.batchIndex()).setBatchIndexErrorMessage(e.message()));
            }
            out.baseOffset = result.error() == NONE ? result.baseOffset() : -1;
            out.logAppendTimeMs = result.error() == NONE ? result.logAppendTimeMs() : -1;
            out.logStartOffset = result.logStartOffset();
            if (result.error() != NONE) return null;
            appended.add(partition.topicPartition());
            return acks == -1 ? new Pending(partition, result.lastOffset() + 1, minInsyncReplicas, out) : null;
        } catch (ApiException e) {
            out.errorCode = e.error();
            out.errorMessage = e.getMessage();
            return null;
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "Append to " + topic.name() + "-" + data.index + " failed", e);
            out.errorCode = KAFKA_STORAGE_ERROR;
            out.errorMessage = e.getMessage();
        }
        return null;
    }
}
