package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static io.tandem.compat.kafka.suite.TransactionsTest.readAll;
import static io.tandem.compat.kafka.suite.TransactionsTest.transactionalProducer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FeatureMetadata;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The Java 4.x producer with transaction version 2 (KIP-890 part 2), which it speaks because the broker finalizes
 * {@code transaction.version} 2: no AddPartitionsToTxn (the produce adds the partition), every commit and abort
 * bumps the producer epoch (seen in DescribeProducers and DescribeTransactions), sendOffsetsToTransaction without
 * AddOffsetsToTxn, and a new producer of the same id still fences the old one.
 */
@ExtendWith(KafkaTargetExtension.class)
class TransactionVersion2Test {

    private static short epochOn(Admin admin, TopicPartition tp, long producerId) throws Exception {
        List<ProducerState> producers = get(admin.describeProducers(List.of(tp)).partitionResult(tp))
                .activeProducers();
        return (short) producers.stream().filter(p -> p.producerId() == producerId).findFirst().orElseThrow()
                .producerEpoch();
    }

    private static TransactionDescription completed(Admin admin, String transactionalId) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            TransactionDescription d = get(admin.describeTransactions(List.of(transactionalId)).description(
                    transactionalId));
            if (d.state() == TransactionState.COMPLETE_COMMIT || d.state() == TransactionState.COMPLETE_ABORT) return d;
            if (System.nanoTime() > deadline) throw new AssertionError(transactionalId + " did not complete: " + d);
            Thread.sleep(20);
        }
    }

    @Test
    void theClusterFinalizesTransactionVersionTwo(KafkaTarget target) throws Exception {
        try (Admin admin = admin(target)) {
            FeatureMetadata features = get(admin.describeFeatures().featureMetadata());
            assertEquals(2, features.finalizedFeatures().get("transaction.version").maxVersionLevel());
        }
    }

    @Test
    void everyCommitAndAbortBumpsTheEpochAndTheOldEpochIsFenced(KafkaTarget target) throws Exception {
        String topic = unique("tv2");
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        String transactionalId = unique("tv2-id");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 2);
            try (KafkaProducer<String, String> producer = transactionalProducer(target, transactionalId, Map.of())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, "c1"));
                producer.send(new ProducerRecord<>(topic, 1, null, "c2"));
                producer.commitTransaction();
                TransactionDescription first = completed(admin, transactionalId);
                long producerId = first.producerId();
                short afterCommit = (short) first.producerEpoch();
                assertEquals(afterCommit, epochOn(admin, p0, producerId), "the marker carries the bumped epoch");
                assertEquals(afterCommit, epochOn(admin, p1, producerId));

                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, "a1")).get();
                producer.abortTransaction();
                TransactionDescription second = completed(admin, transactionalId);
                assertEquals(producerId, second.producerId());
                assertEquals(afterCommit + 1, second.producerEpoch(), "the abort bumped the epoch once more");
                assertEquals(afterCommit + 1, epochOn(admin, p0, producerId));

                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 1, null, "c3"));
                producer.commitTransaction();
                assertEquals(afterCommit + 2, completed(admin, transactionalId).producerEpoch());

                // A second producer of the id fences this one: its produce needs the partition added, which the
                // coordinator refuses (PRODUCER_FENCED, which a produce answers INVALID_PRODUCER_EPOCH, as Kafka).
                try (KafkaProducer<String, String> successor = transactionalProducer(target, transactionalId,
                        Map.of())) {
                    successor.initTransactions();
                    producer.beginTransaction();
                    ExecutionException sendFailure = assertThrows(ExecutionException.class,
                            () -> producer.send(new ProducerRecord<>(topic, 0, null, "zombie")).get());
                    assertInstanceOf(InvalidProducerEpochException.class, sendFailure.getCause());
                    assertThrows(KafkaException.class, producer::commitTransaction);
                    successor.beginTransaction();
                    successor.send(new ProducerRecord<>(topic, 0, null, "c4"));
                    successor.commitTransaction();
                }
            }
        }
        assertEquals(List.of("c1", "c2", "c3", "c4"),
                readAll(target, List.of(p0, p1), IsolationLevel.READ_COMMITTED).stream().sorted().toList());
        assertEquals(List.of("a1", "c1", "c2", "c3", "c4"),
                readAll(target, List.of(p0, p1), IsolationLevel.READ_UNCOMMITTED).stream().sorted().toList());
    }

    @Test
    void sendOffsetsToTransactionCommitsTheGroupsOffsetsWithTheOutput(KafkaTarget target) throws Exception {
        String topic = unique("tv2-offsets");
        String group = unique("tv2-group");
        TopicPartition input = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = transactionalProducer(target, unique("tv2-id"), Map.of())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, "out"));
                producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(7, "meta")),
                        new ConsumerGroupMetadata(group));
                producer.commitTransaction();
                producer.beginTransaction();
                producer.sendOffsetsToTransaction(Map.of(input, new OffsetAndMetadata(9)),
                        new ConsumerGroupMetadata(group));
                producer.abortTransaction();
            }
            Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata());
            assertEquals(7, committed.get(input).offset(), "the aborted offsets never became visible");
            assertEquals("meta", committed.get(input).metadata());
        }
    }
}
