package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.TxnOffsetCommitRequest;
import io.tandem.kafka.wire.message.TxnOffsetCommitResponse;
import io.tandem.server.kafka.ApiException;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.producer.ProducerStateTable;
import io.tandem.server.kafka.producer.VerificationGuard;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * TxnOffsetCommit, the second step of sendOffsetsToTransaction: the group coordinator writes the offsets as the
 * producer's transactional batch in {@code __consumer_offsets} and answers once the ISR has it; the offsets become
 * visible only when the transaction commits. Partitions of unknown topics fail alone (UNKNOWN_TOPIC_OR_PARTITION).
 * From v5 (transaction version 2, KIP-890 part 2) there is no AddOffsetsToTxn: the group's offsets partition joins
 * the transaction here, through the transaction coordinator, unless the producer already has a transaction open
 * there at its epoch; a failed add fails every partition with the coordinator's error, normalized as Kafka's group
 * coordinator does. Before v5 the transaction coordinator is asked instead whether the partition is in the transaction
 * (KIP-890 part 1), and a refusal fails every partition likewise. Either way the write carries the offsets
 * partition's VerificationGuard, so a check that an abort overtook writes nothing (INVALID_TXN_STATE). v6 names
 * topics by id.
 */
final class TxnOffsetCommitHandler implements ApiHandler<TxnOffsetCommitRequest> {
    private final KafkaBroker broker;

    TxnOffsetCommitHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    /** Kafka's first TxnOffsetCommit version whose offsets partition is added implicitly (transaction version 2). */
    static final short FIRST_ADD_PARTITION_VERSION = 5;
    /** Kafka's first version whose producers handle TRANSACTION_ABORTABLE (its genericError operation, KIP-1050). */
    static final short GENERIC_ERROR_VERSION = 4;
    /** The first version that names topics by id. */
    static final short TOPIC_ID_VERSION = 6;

    /** The name offsets are kept under: the topic's, or for an unknown id the id itself (answered, never stored). */
    private static String topicKey(short version, TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t, TopicInfo topic) {
        if (topic != null) return topic.name();
        return version >= TOPIC_ID_VERSION ? String.valueOf(t.topicId) : t.name;
    }

    @Override
    public void handle(RequestContext context, TxnOffsetCommitRequest request, Responder responder) {
        short version = context.apiVersion();
        Map<TopicPartition, CommittedOffset> offsets = new LinkedHashMap<>();
        Map<TopicPartition, Short> errors = new LinkedHashMap<>();
        // Kafka: WRITE on the transactional id, then READ on the group, refuse every partition; READ on each topic.
        short refused = !broker.authorization().transactionalId(context, AclOperation.WRITE, request.transactionalId)
                ? TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                : !broker.authorization().group(context, AclOperation.READ, request.groupId) ? GROUP_AUTHORIZATION_FAILED
                : NONE;
        for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : request.topics) {
            // v6 names topics by id (an unknown id is UNKNOWN_TOPIC_ID, as OffsetCommit v10 answers it).
            TopicInfo topic = version >= TOPIC_ID_VERSION ? broker.metadata().topicById(t.topicId)
                    : broker.metadata().knownTopic(t.name);
            String name = topicKey(version, t, topic);
            boolean topicAllowed = (topic == null && version >= TOPIC_ID_VERSION)
                    || broker.authorization().topic(context, AclOperation.READ, name);
            for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p : t.partitions) {
                TopicPartition tp = new TopicPartition(name, p.partitionIndex);
                if (refused != NONE) {
                    errors.put(tp, refused);
                } else if (!topicAllowed) {
                    errors.put(tp, TOPIC_AUTHORIZATION_FAILED);
                } else if (topic == null || !topic.replicas().containsKey(p.partitionIndex)) {
                    errors.put(tp, version >= TOPIC_ID_VERSION ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION);
                } else {
                    offsets.put(tp, new CommittedOffset(p.committedOffset, p.committedLeaderEpoch,
                            p.committedMetadata == null ? "" : p.committedMetadata, -1));
                }
            }
        }
        if (!offsets.isEmpty()) {
            Partition target;
            try {
                // NOT_COORDINATOR until this broker leads the partition (none before FindCoordinator made it).
                target = broker.offsetsPartitionFor(request.groupId);
            } catch (ApiException e) {
                for (TopicPartition tp : offsets.keySet()) errors.put(tp, e.error());
                responder.send(response(version, request, errors));
                return;
            }
            // Which check answers when both fail (the group coordinator loading, say, and the transaction
            // coordinator refusing): up to v4, what Kafka 3.9 clients send, 3.9's group coordinator checks its own
            // status first (validateGroupStatus) and the commit answers it; v5+, sent only by Kafka 4.x clients,
            // follows 4.x's GroupCoordinatorService, whose runtime verifies (or adds) first
            // (scheduleTransactionalWriteOperation) and finds the coordinator's state only in the write after it.
            // A producer with a transaction open on the offsets partition at its epoch needs no check (Kafka's
            // maybeStartTransactionVerification: an ongoing transaction is its own proof).
            // Before v5 only while transaction.partition.verification.enable is on (read at each request: Kafka lets
            // it change at runtime); from v5 the add is the protocol and happens either way, as in Kafka 4.x.
            boolean adds = version >= FIRST_ADD_PARTITION_VERSION;
            boolean required = broker.transactions().partitionVerificationEnabled();
            boolean checked = adds || required;
            if (checked && (adds || broker.groups().coordinatorError(request.groupId) == NONE)) {
                // The offsets partition's VerificationGuard (Kafka's maybeStartTransactionVerificationForPartition,
                // then storeOffsets with the guard): the write may open the transaction there only with the guard
                // the partition still holds, so an answer that an abort overtook writes nothing. SENTINEL: a
                // transaction is open at the epoch, nothing to ask. Checked while the key is on, as a Produce.
                VerificationGuard guard;
                try {
                    // No sequence: the coordinator's write carries none (Kafka asks with RecordBatch.NO_SEQUENCE).
                    guard = target.startTransactionVerification(request.producerId, request.producerEpoch,
                            ProducerStateTable.NO_SEQUENCE, adds, System.currentTimeMillis());
                } catch (ApiException e) {
                    for (TopicPartition tp : offsets.keySet()) errors.put(tp, failedCheck(version, e.error()));
                    responder.send(response(version, request, errors));
                    return;
                }
                VerificationGuard carried = required ? guard : null;
                if (guard == VerificationGuard.SENTINEL) {
                    commit(version, request, offsets, errors, carried, responder);
                    return;
                }
                Set<TopicPartition> partition = Set.of(target.topicPartition());
                Thread asking = Thread.currentThread();
                AtomicBoolean asked = new AtomicBoolean();
                Consumer<Map<TopicPartition, Short>> then = answered -> {
                    short error = answered.getOrDefault(target.topicPartition(), NONE);
                    Runnable next = () -> {
                        if (error == NONE) {
                            commit(version, request, offsets, errors, carried, responder);
                        } else {
                            for (TopicPartition tp : offsets.keySet()) errors.put(tp, failedCheck(version, error));
                            responder.send(response(version, request, errors));
                        }
                    };
                    // The commit writes to the log: on a request handler thread, not the coordinator's or the
                    // inter-broker client's that answered (at once when answered before the request returned).
                    if (Thread.currentThread() == asking && !asked.get()) {
                        next.run();
                    } else {
                        broker.continueOnRequestHandler(next, responder);
                    }
                };
                if (version >= FIRST_ADD_PARTITION_VERSION) {
                    broker.transactions().partitionAdder().add(request.transactionalId, request.producerId,
                            request.producerEpoch, partition, then);
                } else {
                    // KIP-890 part 1, which Kafka's group coordinator applies to every TxnOffsetCommit of a
                    // transaction version 0 producer while transaction.partition.verification.enable is on:
                    // the transaction coordinator must already hold the offsets partition (AddOffsetsToTxn), so a
                    // producer id it never gave, or a transaction it ended, writes nothing.
                    broker.transactions().partitionAdder().verify(request.transactionalId, request.producerId,
                            request.producerEpoch, partition, then);
                }
                asked.set(true);
                return;
            }
        }
        commit(version, request, offsets, errors, null, responder);
    }

    /**
     * The error every partition gets when the transaction coordinator refused the offsets partition, as Kafka's
     * AddPartitionsToTxnManager and group coordinator map it (3.9's GroupMetadataManager.maybeConvertOffsetCommitError,
     * 4.x's GroupCoordinatorService.handleOperationException): TRANSACTION_ABORTABLE is INVALID_TXN_STATE before v4
     * (older producers do not know it); a lost connection (NETWORK_EXCEPTION), which older clients may not retry, is
     * COORDINATOR_LOAD_IN_PROGRESS, retried without a coordinator lookup; what producers retry as a coordinator
     * problem (NOT_ENOUGH_REPLICAS, a timeout, an unknown partition) is COORDINATOR_NOT_AVAILABLE; a moved leader is
     * NOT_COORDINATOR; the rest (INVALID_PRODUCER_ID_MAPPING, INVALID_PRODUCER_EPOCH, CONCURRENT_TRANSACTIONS, ...)
     * stays.
     */
    static short failedCheck(short version, short error) {
        if (error == TRANSACTION_ABORTABLE && version < GENERIC_ERROR_VERSION) return INVALID_TXN_STATE;
        if (error == NETWORK_EXCEPTION) return COORDINATOR_LOAD_IN_PROGRESS;
        if (error == NOT_ENOUGH_REPLICAS || error == NOT_ENOUGH_REPLICAS_AFTER_APPEND || error == REQUEST_TIMED_OUT
                || error == UNKNOWN_TOPIC_OR_PARTITION) {
            return COORDINATOR_NOT_AVAILABLE;
        }
        if (error == NOT_LEADER_OR_FOLLOWER || error == KAFKA_STORAGE_ERROR) return NOT_COORDINATOR;
        return error;
    }

    private void commit(short version, TxnOffsetCommitRequest request, Map<TopicPartition, CommittedOffset> offsets,
                        Map<TopicPartition, Short> errors, VerificationGuard verificationGuard, Responder responder) {
        Partition offsetsPartition = null;
        long committedEnd = -1;
        if (!offsets.isEmpty()) {
            try {
                offsetsPartition = broker.offsetsPartitionFor(request.groupId);
                errors.putAll(broker.groups().commitTransactionalOffsets(request.groupId, request.producerId,
                        request.producerEpoch, request.memberId, request.groupInstanceId,
                        request.generationIdOrMemberEpoch, offsets, System.currentTimeMillis(), verificationGuard));
                committedEnd = offsetsPartition.logEndOffset();
            } catch (ApiException e) {
                for (TopicPartition tp : offsets.keySet()) errors.put(tp, e.error());
            }
        }
        if (offsetsPartition == null || !errors.containsValue(NONE)) {
            responder.send(response(version, request, errors));
            return;
        }
        List<TopicPartition> written = offsets.keySet().stream().filter(tp -> errors.get(tp) == NONE).toList();
        // Acknowledged once the offsets topic's ISR has the batch, as Kafka's coordinator does (acks=all).
        broker.whenReplicated(offsetsPartition, committedEnd, OffsetCommitHandler.OFFSET_COMMIT_TIMEOUT_MS, error -> {
            if (error != NONE) {
                broker.groups().failTransactionalOffsets(request.groupId, request.producerId, written);
                short mapped = error == NOT_LEADER_OR_FOLLOWER ? NOT_COORDINATOR : error;
                for (TopicPartition tp : written) errors.put(tp, mapped);
            }
            responder.send(response(version, request, errors));
        });
    }

    private TxnOffsetCommitResponse response(short version, TxnOffsetCommitRequest request,
                                             Map<TopicPartition, Short> errors) {
        TxnOffsetCommitResponse response = new TxnOffsetCommitResponse();
        for (TxnOffsetCommitRequest.TxnOffsetCommitRequestTopic t : request.topics) {
            TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic topic = new TxnOffsetCommitResponse.TxnOffsetCommitResponseTopic();
            topic.name = t.name;
            topic.topicId = t.topicId;
            String name = topicKey(version, t, version >= TOPIC_ID_VERSION ? broker.metadata().topicById(t.topicId)
                    : broker.metadata().knownTopic(t.name));
            for (TxnOffsetCommitRequest.TxnOffsetCommitRequestPartition p : t.partitions) {
                TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition partition =
                        new TxnOffsetCommitResponse.TxnOffsetCommitResponsePartition();
                partition.partitionIndex = p.partitionIndex;
                short error = errors.getOrDefault(new TopicPartition(name, p.partitionIndex), NONE);
                // Producers before 2.0 (v0-1) crash on COORDINATOR_LOAD_IN_PROGRESS here (KAFKA-7296).
                partition.errorCode = version < 2 && error == COORDINATOR_LOAD_IN_PROGRESS ? COORDINATOR_NOT_AVAILABLE
                        : error;
                topic.partitions.add(partition);
            }
            response.topics.add(topic);
        }
        return response;
    }
}
