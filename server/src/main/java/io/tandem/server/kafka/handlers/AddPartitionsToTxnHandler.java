package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.AddPartitionsToTxnRequest;
import io.tandem.kafka.wire.message.AddPartitionsToTxnResponse;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * AddPartitionsToTxn: v0-3 from producers (one transaction), v4+ from brokers (several transactions, each either
 * added or, with verifyOnly, checked). As in Kafka, a partition of an unknown topic fails the whole transaction's
 * request: it gets UNKNOWN_TOPIC_OR_PARTITION and the other partitions OPERATION_NOT_ATTEMPTED. Clients before v2
 * get PRODUCER_FENCED as INVALID_PRODUCER_EPOCH, before v4 TRANSACTION_ABORTABLE as INVALID_TXN_STATE.
 */
final class AddPartitionsToTxnHandler implements ApiHandler<AddPartitionsToTxnRequest> {
    private final KafkaBroker broker;

    AddPartitionsToTxnHandler(KafkaBroker broker) {
        this.broker = broker;
    }

    @Override
    public void handle(RequestContext context, AddPartitionsToTxnRequest request, Responder responder) {
        short version = context.apiVersion();
        if (version < 4) {
            Set<TopicPartition> partitions = partitionsOf(request.v3AndBelowTopics);
            handleTransaction(context, version, request.v3AndBelowTransactionalId, request.v3AndBelowProducerId,
                    request.v3AndBelowProducerEpoch, false, partitions, errors -> {
                        AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
                        response.resultsByTopicV3AndBelow = topicResults(errors);
                        responder.send(response);
                    });
            return;
        }
        AddPartitionsToTxnResponse response = new AddPartitionsToTxnResponse();
        // v4+ batches come from brokers (KIP-890 verification): Kafka requires CLUSTER_ACTION for them.
        if (!broker.authorization().allowedOnCluster(context, AclOperation.CLUSTER_ACTION)) {
            response.errorCode = CLUSTER_AUTHORIZATION_FAILED;
            responder.send(response);
            return;
        }
        List<AddPartitionsToTxnResponse.AddPartitionsToTxnResult> results = new ArrayList<>();
        for (int i = 0; i < request.transactions.size(); i++) results.add(null);
        AtomicInteger remaining = new AtomicInteger(request.transactions.size());
        if (request.transactions.isEmpty()) {
            responder.send(response);
            return;
        }
        for (int i = 0; i < request.transactions.size(); i++) {
            int index = i;
            AddPartitionsToTxnRequest.AddPartitionsToTxnTransaction txn = request.transactions.get(i);
            handleTransaction(null, version, txn.transactionalId, txn.producerId, txn.producerEpoch, txn.verifyOnly,
                    partitionsOf(txn.topics), errors -> {
                        AddPartitionsToTxnResponse.AddPartitionsToTxnResult result =
                                new AddPartitionsToTxnResponse.AddPartitionsToTxnResult();
                        result.transactionalId = txn.transactionalId;
                        result.topicResults = topicResults(errors);
                        synchronized (results) {
                            results.set(index, result);
                        }
                        if (remaining.decrementAndGet() == 0) {
                            synchronized (results) {
                                response.resultsByTransaction.addAll(results);
                            }
                            responder.send(response);
                        }
                    });
        }
    }

    /** {@code client} is the request of a producer (v0-3), whose ids and topics are authorized here; else null. */
    private void handleTransaction(RequestContext client, short version, String transactionalId, long producerId,
                                   short producerEpoch, boolean verifyOnly, Set<TopicPartition> partitions,
                                   Consumer<Map<TopicPartition, Short>> then) {
        if (client != null && !broker.authorization().transactionalId(client, AclOperation.WRITE, transactionalId)) {
            Map<TopicPartition, Short> errors = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) errors.put(tp, TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
            then.accept(errors);
            return;
        }
        Map<TopicPartition, Short> unknown = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            TopicInfo topic = broker.metadata().knownTopic(tp.topic());
            if (client != null && !broker.authorization().topic(client, AclOperation.WRITE, tp.topic())) {
                unknown.put(tp, TOPIC_AUTHORIZATION_FAILED);
            } else if (topic == null || !topic.replicas().containsKey(tp.partition())) unknown.put(tp, UNKNOWN_TOPIC_OR_PARTITION);
        }
        if (!unknown.isEmpty()) {
            Map<TopicPartition, Short> errors = new LinkedHashMap<>();
            for (TopicPartition tp : partitions) errors.put(tp, unknown.getOrDefault(tp, OPERATION_NOT_ATTEMPTED));
            then.accept(errors);
            return;
        }
        if (verifyOnly) {
            then.accept(broker.transactions().coordinator().verifyPartitions(transactionalId, producerId, producerEpoch,
                    partitions));
            return;
        }
        // Brokers add partitions for the transactions of version 2 producers with v5 (KIP-890 part 2); clients
        // (v0-3) speak version 0.
        short clientVersion = version >= 5 ? Features.TRANSACTION_VERSION_2 : Features.TRANSACTION_VERSION_0;
        broker.transactions().coordinator().handleAddPartitions(transactionalId, producerId, producerEpoch, partitions,
                clientVersion, error -> {
                    short mapped = version < 2 && error == PRODUCER_FENCED ? INVALID_PRODUCER_EPOCH
                            : version < 4 && error == TRANSACTION_ABORTABLE ? INVALID_TXN_STATE : error;
                    Map<TopicPartition, Short> errors = new LinkedHashMap<>();
                    for (TopicPartition tp : partitions) errors.put(tp, mapped);
                    then.accept(errors);
                });
    }

    private static Set<TopicPartition> partitionsOf(List<AddPartitionsToTxnRequest.AddPartitionsToTxnTopic> topics) {
        Set<TopicPartition> partitions = new LinkedHashSet<>();
        for (AddPartitionsToTxnRequest.AddPartitionsToTxnTopic topic : topics) {
            for (int p : topic.partitions) partitions.add(new TopicPartition(topic.name, p));
        }
        return partitions;
    }

    private static List<AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> topicResults(
            Map<TopicPartition, Short> errors) {
        Map<String, AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult> byTopic = new LinkedHashMap<>();
        for (Map.Entry<TopicPartition, Short> e : errors.entrySet()) {
            AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult p =
                    new AddPartitionsToTxnResponse.AddPartitionsToTxnPartitionResult();
            p.partitionIndex = e.getKey().partition();
            p.partitionErrorCode = e.getValue();
            byTopic.computeIfAbsent(e.getKey().topic(), name -> {
                AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult t =
                        new AddPartitionsToTxnResponse.AddPartitionsToTxnTopicResult();
                t.name = name;
                return t;
            }).resultsByPartition.add(p);
        }
        return new ArrayList<>(byTopic.values());
    }
}
