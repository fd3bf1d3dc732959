package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.acl.AclOperation;
import io.tandem.kafka.wire.message.ProduceRequest;
import io.tandem.kafka.wire.message.ProduceResponse.PartitionProduceResponse;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.RequestDropped;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.producer.VerificationGuard;
import io.tandem.server.kafka.txn.TransactionConfig;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * What a transactional Produce asks the transaction coordinator before its batches are appended, as Kafka's
 * ReplicaManager.handleProduceAppend: for each partition where the producer has no transaction open at its epoch the
 * leader starts a verification ({@link Partition#startTransactionVerification}, which hands out the
 * {@link VerificationGuard} the append must bring back), then asks the coordinator through the same per-coordinator
 * batches as every other implicit AddPartitionsToTxn ({@link io.tandem.server.kafka.txn.ImplicitPartitionAdder}).
 * Up to v11 (transaction version 0 producers, KIP-890 part 1) it only asks whether the partition is in the
 * transaction (verifyOnly), and only while {@code transaction.partition.verification.enable} is on; from v12
 * (transaction version 2, KIP-890 part 2) the produce adds the partition itself, whatever the key says, as Kafka 4.x
 * does (its ADD_PARTITION operation supports the epoch bump). The append waits for the answer without holding a
 * thread: the answer arrives on whichever thread the coordinator or its connection answers on, and the produce goes on
 * on a request handler thread ({@link KafkaBroker#continueOnRequestHandler}), or at once on the thread that asked when
 * this broker's coordinator answered before the request returned (Kafka's wrapAsyncCallback runs it inline then too).
 */
final class ProduceVerification {
    /** Kafka's first Produce version whose transactional batches add their partitions (transaction version 2). */
    static final short FIRST_ADD_PARTITION_VERSION = 12;
    /** Kafka's first Produce version whose producers handle TRANSACTION_ABORTABLE (its genericError operation). */
    static final short FIRST_ABORTABLE_VERSION = 11;

    private ProduceVerification() {
    }

    /**
     * The verification's outcome, what the append goes on with: an error per partition that failed it (before any
     * append), the guard per partition verified, whether the log must check guards at all ({@code required}: the key
     * is on), and an error for the whole request (Kafka refuses a request whose transactional batches name more than
     * one producer: INVALID_PRODUCER_ID_MAPPING for every partition).
     */
    record Outcome(Map<TopicPartition, Short> errors, Map<TopicPartition, VerificationGuard> guards, boolean required,
                   short requestError) {
        static final Outcome NOTHING = new Outcome(Map.of(), Map.of(), false, NONE);

        /** The guard the append of this partition brings: null when nothing is checked. */
        VerificationGuard guardFor(TopicPartition tp) {
            return required ? guards.getOrDefault(tp, VerificationGuard.SENTINEL) : null;
        }

        short errorFor(TopicPartition tp) {
            return errors.getOrDefault(tp, NONE);
        }
    }

    /** The producer id and epoch of a transactional batch. */
    private record Producer(long producerId, short producerEpoch) {
    }

    /** Verifies what the request needs verified, then hands {@code then} the outcome (see the class comment). */
    static void start(KafkaBroker broker, RequestContext context, ProduceRequest request, Responder waiting,
                      Consumer<Outcome> then) {
        short version = context.apiVersion();
        if (request.transactionalId == null || version < 3) {
            then.accept(Outcome.NOTHING);
            return;
        }
        boolean addsPartitions = version >= FIRST_ADD_PARTITION_VERSION;
        boolean required = broker.transactions().partitionVerificationEnabled();
        // Refused requests are answered without touching the transaction, as in Kafka (authorization and acks are
        // checked before handleProduceAppend).
        if ((!addsPartitions && !required)
                || !broker.authorization().transactionalId(context, AclOperation.WRITE, request.transactionalId)
                || !(request.acks == 0 || request.acks == 1 || request.acks == -1)) {
            then.accept(new Outcome(Map.of(), Map.of(), required, NONE));
            return;
        }
        // Per partition the first sequence of its first batch, which the verification keeps as its lowest (Kafka's
        // topicPartitionBatchInfo).
        Map<TopicPartition, Integer> transactional = new LinkedHashMap<>();
        Producer producer = null;
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
                if (!first.hasProducerId() || !first.isTransactional()) continue;
                Producer p = new Producer(first.producerId(), first.producerEpoch());
                if (producer != null && !producer.equals(p)) {
                    // Kafka: "Transactional records contained more than one producer ID".
                    then.accept(new Outcome(Map.of(), Map.of(), required, INVALID_PRODUCER_ID_MAPPING));
                    return;
                }
                producer = p;
                transactional.put(new TopicPartition(topic.name(), data.index), first.baseSequence());
            }
        }
        ask(broker, request.transactionalId, producer, transactional, addsPartitions, required,
                System.currentTimeMillis(), true, waiting, then);
    }

    /**
     * One round of Kafka's maybeSendPartitionsToTransactionCoordinator: starts (or joins) the verification of each
     * partition, asks the coordinator about those with a guard, and hands {@code then} the outcome. A transaction
     * version 2 add answered CONCURRENT_TRANSACTIONS (the previous transaction still completing, common right after a
     * commit) is asked again after {@code add.partitions.to.txn.retry.backoff.ms}, the whole round as Kafka's
     * maybeRetryOnConcurrentTransactions does, until {@code add.partitions.to.txn.retry.backoff.max.ms} (at most
     * request.timeout.ms) has passed since the first round; then the producer gets it. Verification (before v12) is
     * never retried here: those producers get NOT_ENOUGH_REPLICAS and retry themselves.
     */
    private static void ask(KafkaBroker broker, String transactionalId, Producer producer,
                            Map<TopicPartition, Integer> transactional, boolean addsPartitions, boolean required,
                            long startedMs, boolean firstRound, Responder waiting, Consumer<Outcome> then) {
        Map<TopicPartition, Short> errors = new LinkedHashMap<>();
        Map<TopicPartition, VerificationGuard> guards = new LinkedHashMap<>();
        long now = System.currentTimeMillis();
        for (Map.Entry<TopicPartition, Integer> e : transactional.entrySet()) {
            TopicPartition tp = e.getKey();
            Partition partition = broker.logs().get(tp);
            // Not led here: the append answers NOT_LEADER_OR_FOLLOWER with the leader's whereabouts.
            if (partition == null || !partition.isLeader()) continue;
            try {
                VerificationGuard guard = partition.startTransactionVerification(producer.producerId(),
                        producer.producerEpoch(), e.getValue(), addsPartitions, now);
                if (guard != VerificationGuard.SENTINEL) guards.put(tp, guard);
            } catch (ApiException refused) {
                errors.put(tp, refused.error());
            }
        }
        Thread asking = Thread.currentThread();
        AtomicBoolean asked = new AtomicBoolean();
        Consumer<Outcome> deliver = outcome -> {
            // Kafka's wrapAsyncCallback: inline when answered before the first round's ask returned, else on a
            // request handler thread (never the coordinator's, the connection's or the retry scheduler's).
            if (firstRound && Thread.currentThread() == asking && !asked.get()) {
                then.accept(outcome);
            } else {
                broker.continueOnRequestHandler(() -> then.accept(outcome), waiting);
            }
        };
        if (guards.isEmpty()) {
            deliver.accept(new Outcome(errors, guards, required, NONE));
            return;
        }
        TransactionConfig config = broker.transactions().config();
        long retryForMs = Math.min(config.addPartitionsRetryBackoffMaxMs(), TransactionConfig.REQUEST_TIMEOUT_MS);
        Consumer<Map<TopicPartition, Short>> answered = coordinatorErrors -> {
            Map<TopicPartition, Short> all = new LinkedHashMap<>(errors);
            coordinatorErrors.forEach((tp, error) -> {
                if (error != NONE) all.put(tp, error);
            });
            if (addsPartitions && all.containsValue(CONCURRENT_TRANSACTIONS)
                    && System.currentTimeMillis() - startedMs < retryForMs) {
                // The next round runs on a request handler thread, as the first did: asking this broker's own
                // coordinator may write its state log.
                broker.transactions().schedule(() -> broker.continueOnRequestHandler(() -> ask(broker,
                        transactionalId, producer, transactional, addsPartitions, required, startedMs, false, waiting,
                        then), waiting), config.addPartitionsRetryBackoffMs(),
                        () -> waiting.fail(RequestDropped.BROKER_STOPPING));
                return;
            }
            deliver.accept(new Outcome(all, guards, required, NONE));
        };
        if (addsPartitions) {
            broker.transactions().partitionAdder().add(transactionalId, producer.producerId(),
                    producer.producerEpoch(), guards.keySet(), answered);
        } else {
            broker.transactions().partitionAdder().verify(transactionalId, producer.producerId(),
                    producer.producerEpoch(), guards.keySet(), answered);
        }
        asked.set(true);
    }

    /**
     * A partition that failed its verification, answered as Kafka answers the producer: the coordinator's
     * TRANSACTION_ABORTABLE (not in the transaction) is INVALID_TXN_STATE up to v10 (AddPartitionsToTxnManager's
     * DEFAULT_ERROR operation, for clients that do not know the newer code), which ReplicaManager answers with "Partition
     * was not added to the transaction"; coordinator trouble becomes the retriable NOT_ENOUGH_REPLICAS (it triggers no
     * metadata refresh), CONCURRENT_TRANSACTIONS too before v12, while transaction version 2 producers get it as it is
     * (common while the previous transaction completes); the rest (INVALID_PRODUCER_EPOCH, INVALID_PRODUCER_ID_MAPPING,
     * v11's TRANSACTION_ABORTABLE, ...) as it is, without a message.
     */
    static void fail(PartitionProduceResponse out, short version, short error) {
        short code = error == TRANSACTION_ABORTABLE && version < FIRST_ABORTABLE_VERSION ? INVALID_TXN_STATE : error;
        out.errorCode = code;
        out.errorMessage = null;
        if (code == INVALID_TXN_STATE) {
            out.errorMessage = "Partition was not added to the transaction";
        } else if (code == NETWORK_EXCEPTION || code == COORDINATOR_LOAD_IN_PROGRESS
                || code == COORDINATOR_NOT_AVAILABLE || code == NOT_COORDINATOR
                || (code == CONCURRENT_TRANSACTIONS && version < FIRST_ADD_PARTITION_VERSION)) {
            out.errorCode = NOT_ENOUGH_REPLICAS;
            out.errorMessage = "Unable to verify the partition has been added to the transaction. Underlying error: "
                    + Errors.forCode(code).name();
        }
    }
}
