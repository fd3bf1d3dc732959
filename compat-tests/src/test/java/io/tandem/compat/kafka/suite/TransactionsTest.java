package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Transactions with the unmodified Java client (KIP-98, KIP-447): committed records reach read_committed consumers
 * and aborted ones never do, while read_uncommitted consumers see both; an open transaction holds the last stable
 * offset back; a new producer with the same transactional id fences the old one; consume-transform-produce commits
 * the group's offsets with the output; a transaction past its timeout is aborted by the coordinator; the admin
 * client's transaction views.
 */
@ExtendWith(KafkaTargetExtension.class)
class TransactionsTest {

    static KafkaProducer<String, String> transactionalProducer(KafkaTarget target, String transactionalId,
                                                              Map<String, Object> overrides) {
        Properties props = producerProps(target);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        props.putAll(overrides);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    static KafkaConsumer<String, String> consumer(KafkaTarget target, String group, IsolationLevel isolation) {
        Properties props = consumerProps(target, group);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation.toString());
        return new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
    }

    /** Every record of the partitions from the start, at the given isolation level, once the end is reached. */
    static List<String> readAll(KafkaTarget target, List<TopicPartition> partitions, IsolationLevel isolation) {
        try (KafkaConsumer<String, String> consumer = consumer(target, null, isolation)) {
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<String> values = new ArrayList<>();
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("did not reach " + end + " at " + isolation + "; read " + values);
                }
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) values.add(r.value());
            }
            return values;
        }
    }

    @Test
    void committedRecordsAreVisibleAndAbortedOnesOnlyToReadUncommitted(KafkaTarget target) throws Exception {
        String topic = unique("txn");
        List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1));
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 2);
        }
        try (KafkaProducer<String, String> producer = transactionalProducer(target, unique("txn-id"), Map.of())) {
            producer.initTransactions();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, null, "c1"));
            producer.send(new ProducerRecord<>(topic, 1, null, "c2"));
            producer.commitTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, null, "a1"));
            producer.send(new ProducerRecord<>(topic, 1, null, "a2"));
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, 0, null, "c3"));
            producer.commitTransaction();
        }
        List<String> committed = readAll(target, partitions, IsolationLevel.READ_COMMITTED);
        assertEquals(List.of("c1", "c2", "c3"), committed.stream().sorted().toList());
        List<String> uncommitted = readAll(target, partitions, IsolationLevel.READ_UNCOMMITTED);
        assertEquals(List.of("a1", "a2", "c1", "c2", "c3"), uncommitted.stream().sorted().toList());
        // Partition 0: c1, marker, a1, marker, c3, marker; partition 1: c2, marker, a2, marker.
        try (Admin admin = admin(target)) {
            for (IsolationLevel level : IsolationLevel.values()) {
                Map<TopicPartition, Long> latest = new HashMap<>();
                for (TopicPartition tp : partitions) {
                    latest.put(tp, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                            new ListOffsetsOptions(level)).all()).get(tp).offset());
                }
                assertEquals(Map.of(partitions.get(0), 6L, partitions.get(1), 4L), latest, "latest at " + level);
            }
        }
    }

    @Test
    void kcatAtReadCommittedSkipsAbortedTransactions(KafkaTarget target) throws Exception {
        ExternalTool.requireKcat();
        String topic = unique("txn-kcat");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        try (KafkaProducer<String, String> producer = transactionalProducer(target, unique("txn-id"), Map.of())) {
            producer.initTransactions();
            for (int t = 0; t < 4; t++) {
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, (t % 2 == 0 ? "commit" : "abort") + t));
                producer.flush();
                if (t % 2 == 0) {
                    producer.commitTransaction();
                } else {
                    producer.abortTransaction();
                }
            }
        }
        // librdkafka filters the aborted records with the fetch's aborted transaction list, and the markers always.
        for (String isolation : List.of("read_committed", "read_uncommitted")) {
            ExternalTool.Result consumed = ExternalTool.run(List.of(ExternalTool.KCAT.toString(), "-b",
                    target.bootstrapServers(), "-C", "-t", topic, "-p", "0", "-o", "beginning", "-e",
                    "-X", "isolation.level=" + isolation, "-f", "%s\\n"), null, Duration.ofSeconds(60));
            assertEquals(0, consumed.exitCode(), consumed.describe());
            assertEquals(isolation.equals("read_committed") ? List.of("commit0", "commit2")
                    : List.of("commit0", "abort1", "commit2", "abort3"), consumed.stdout().lines().toList(),
                    isolation + ": " + consumed.describe());
        }
    }

    @Test
    void concurrentTransactionalProducersLeakNoAbortedRecord(KafkaTarget target) throws Exception {
        String topic = unique("txn-many");
        List<TopicPartition> partitions = List.of(new TopicPartition(topic, 0), new TopicPartition(topic, 1),
                new TopicPartition(topic, 2));
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 3);
        }
        List<String> committed = java.util.Collections.synchronizedList(new ArrayList<>());
        List<String> all = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < 4; p++) {
            int id = p;
            Thread t = new Thread(() -> {
                try (KafkaProducer<String, String> producer = transactionalProducer(target, unique("many-" + id),
                        Map.of(ProducerConfig.LINGER_MS_CONFIG, 0))) {
                    producer.initTransactions();
                    for (int txn = 0; txn < 15; txn++) {
                        producer.beginTransaction();
                        List<String> values = new ArrayList<>();
                        for (int r = 0; r < 6; r++) {
                            String value = "p" + id + "-t" + txn + "-r" + r;
                            values.add(value);
                            producer.send(new ProducerRecord<>(topic, r % 3, null, value));
                        }
                        all.addAll(values);
                        if (txn % 3 == 2) {
                            producer.flush();
                            producer.abortTransaction();
                        } else {
                            producer.commitTransaction();
                            committed.addAll(values);
                        }
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join(TIMEOUT.toMillis() * 2);
        assertEquals(List.of(), failures);
        assertEquals(committed.stream().sorted().toList(),
                readAll(target, partitions, IsolationLevel.READ_COMMITTED).stream().sorted().toList());
        assertEquals(all.stream().sorted().toList(),
                readAll(target, partitions, IsolationLevel.READ_UNCOMMITTED).stream().sorted().toList());
        try (Admin admin = admin(target)) {
            for (TopicPartition tp : partitions) {
                Map<TopicPartition, OffsetSpec> latest = Map.of(tp, OffsetSpec.latest());
                assertEquals(get(admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
                        .all()).get(tp).offset(), get(admin.listOffsets(latest,
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()).get(tp).offset(),
                        "every transaction ended: LSO = HW on " + tp);
            }
        }
    }

    @Test
    void anOpenTransactionHoldsTheLastStableOffsetBack(KafkaTarget target) throws Exception {
        String topic = unique("txn-open");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> plain = stringProducer(target)) {
                plain.send(new ProducerRecord<>(topic, 0, null, "before")).get();
            }
            try (KafkaProducer<String, String> producer = transactionalProducer(target, unique("txn-id"), Map.of())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, "open1"));
                producer.send(new ProducerRecord<>(topic, 0, null, "open2")).get();
                assertEquals(1L, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()).get(tp).offset(),
                        "read_committed latest is the first offset of the open transaction");
                assertEquals(3L, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED)).all()).get(tp).offset());
                assertEquals(List.of("before"), readAll(target, List.of(tp), IsolationLevel.READ_COMMITTED));
                assertEquals(List.of("before", "open1", "open2"),
                        readAll(target, List.of(tp), IsolationLevel.READ_UNCOMMITTED));
                try (KafkaConsumer<String, String> waiting = consumer(target, null, IsolationLevel.READ_COMMITTED)) {
                    waiting.assign(List.of(tp));
                    waiting.seek(tp, 1);
                    assertTrue(waiting.poll(Duration.ofMillis(500)).isEmpty(), "nothing past the LSO");
                    producer.commitTransaction();
                    assertEquals(List.of("open1", "open2"), values(pollExactly(waiting, 2)));
                }
            }
        }
    }

    @Test
    void aNewProducerWithTheSameTransactionalIdFencesTheOldOne(KafkaTarget target) throws Exception {
        String topic = unique("txn-fence");
        String transactionalId = unique("txn-id");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        try (KafkaProducer<String, String> zombie = transactionalProducer(target, transactionalId, Map.of());
             KafkaProducer<String, String> successor = transactionalProducer(target, transactionalId, Map.of())) {
            zombie.initTransactions();
            zombie.beginTransaction();
            zombie.send(new ProducerRecord<>(topic, 0, null, "zombie1")).get();
            // The successor's initTransactions aborts the zombie's open transaction and bumps the epoch.
            successor.initTransactions();
            successor.beginTransaction();
            successor.send(new ProducerRecord<>(topic, 0, null, "successor")).get();
            successor.commitTransaction();
            ExecutionException sendFailure = assertThrows(ExecutionException.class,
                    () -> zombie.send(new ProducerRecord<>(topic, 0, null, "zombie2")).get());
            assertInstanceOf(InvalidProducerEpochException.class, sendFailure.getCause(),
                    "a write with the fenced epoch is refused by the partition");
            // The failed send left the transaction to be aborted; the abort finds the epoch fenced.
            assertInstanceOf(InvalidProducerEpochException.class,
                    assertThrows(KafkaException.class, zombie::commitTransaction));
            assertThrows(ProducerFencedException.class, zombie::abortTransaction,
                    "the coordinator fences the old epoch");
        }
        assertEquals(List.of("successor"), readAll(target, List.of(tp), IsolationLevel.READ_COMMITTED));
        assertEquals(List.of("zombie1", "successor"), readAll(target, List.of(tp), IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void consumeTransformProduceCommitsTheGroupOffsetsWithTheOutput(KafkaTarget target) throws Exception {
        String input = unique("ctp-in");
        String output = unique("ctp-out");
        String group = unique("ctp-group");
        TopicPartition in = new TopicPartition(input, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, input, 1);
            createTopic(admin, output, 1);
            try (KafkaProducer<String, String> plain = stringProducer(target)) {
                for (int i = 0; i < 10; i++) plain.send(new ProducerRecord<>(input, 0, null, "m" + i));
            }
            try (KafkaProducer<String, String> producer = transactionalProducer(target, unique("ctp-id"), Map.of());
                 KafkaConsumer<String, String> consumer = consumer(target, group, IsolationLevel.READ_COMMITTED)) {
                producer.initTransactions();
                consumer.subscribe(List.of(input));
                // The first transaction copies six records and commits; the second copies the rest and aborts.
                List<ConsumerRecord<String, String>> first = new ArrayList<>();
                while (first.size() < 6) {
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) first.add(r);
                }
                producer.beginTransaction();
                for (ConsumerRecord<String, String> r : first.subList(0, 6)) {
                    producer.send(new ProducerRecord<>(output, 0, null, r.value().toUpperCase()));
                }
                producer.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(first.get(5).offset() + 1, "meta")),
                        consumer.groupMetadata());
                assertTrue(get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()).isEmpty(),
                        "offsets of an open transaction are not visible");
                producer.commitTransaction();
                assertEquals(new OffsetAndMetadata(6, "meta"), Eventually.get(() -> {
                    OffsetAndMetadata committed = get(admin.listConsumerGroupOffsets(group)
                            .partitionsToOffsetAndMetadata()).get(in);
                    assertTrue(committed != null && committed.offset() == 6, "committed: " + committed);
                    return new OffsetAndMetadata(committed.offset(), committed.metadata());
                }));
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(output, 0, null, "ABORTED"));
                producer.sendOffsetsToTransaction(Map.of(in, new OffsetAndMetadata(10)), consumer.groupMetadata());
                producer.abortTransaction();
            }
            assertEquals(6L, get(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()).get(in).offset(),
                    "the aborted transaction's offsets never count");
        }
        assertEquals(List.of("M0", "M1", "M2", "M3", "M4", "M5"),
                readAll(target, List.of(new TopicPartition(output, 0)), IsolationLevel.READ_COMMITTED));
        // A consumer of the group resumes after the committed transaction.
        try (KafkaConsumer<String, String> resumed = consumer(target, group, IsolationLevel.READ_COMMITTED)) {
            resumed.subscribe(List.of(input));
            assertEquals(List.of("m6", "m7", "m8", "m9"), values(pollExactly(resumed, 4)));
        }
    }

    @Test
    void theCoordinatorAbortsATransactionPastItsTimeout(KafkaTarget target) throws Exception {
        String topic = unique("txn-timeout");
        TopicPartition tp = new TopicPartition(topic, 0);
        String transactionalId = unique("txn-id");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = transactionalProducer(target, transactionalId,
                    Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 1000))) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, "expired")).get();
                // The abort writes its marker: the LSO passes the transaction without the producer doing anything.
                Eventually.run(() -> assertEquals(2L, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()).get(tp).offset()));
                TransactionDescription description = Eventually.get(() -> {
                    TransactionDescription d = get(admin.describeTransactions(List.of(transactionalId)).all())
                            .get(transactionalId);
                    assertEquals("CompleteAbort", d.state().toString(), d.toString());
                    return d;
                });
                assertTrue(description.topicPartitions().isEmpty());
                // The abort bumped the epoch. With transaction version 1 (Kafka 3.9 in ZooKeeper mode) the commit of
                // the old epoch is PRODUCER_FENCED; with version 2 (a Kafka 4.x cluster, and Tandem) the abort bumps
                // it once and the commit is INVALID_TXN_STATE.
                KafkaException failure = assertThrows(KafkaException.class, producer::commitTransaction);
                Class<? extends KafkaException> expected = transactionVersion(admin) >= 2
                        ? InvalidTxnStateException.class : ProducerFencedException.class;
                assertInstanceOf(expected, failure, failure.toString());
            }
        }
        assertEquals(List.of(), readAll(target, List.of(tp), IsolationLevel.READ_COMMITTED));
        assertEquals(List.of("expired"), readAll(target, List.of(tp), IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void openTransactionsSurviveABrokerRestart(KafkaTarget target) throws Exception {
        String topic = unique("txn-restart");
        TopicPartition tp = new TopicPartition(topic, 0);
        String finishedId = unique("txn-id");
        String abandonedId = unique("txn-id");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        try (KafkaProducer<String, String> finisher = transactionalProducer(target, finishedId, Map.of());
             KafkaProducer<String, String> abandoner = transactionalProducer(target, abandonedId, Map.of())) {
            finisher.initTransactions();
            abandoner.initTransactions();
            finisher.beginTransaction();
            abandoner.beginTransaction();
            finisher.send(new ProducerRecord<>(topic, 0, null, "before-restart")).get();
            abandoner.send(new ProducerRecord<>(topic, 0, null, "abandoned")).get();

            target.restart();

            // The coordinator reloads the open transaction and the partition its open state: the same producer
            // carries on and commits across the restart.
            finisher.send(new ProducerRecord<>(topic, 0, null, "after-restart")).get();
            finisher.commitTransaction();
            try (Admin admin = admin(target)) {
                assertEquals(1L, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                        new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).all()).get(tp).offset(),
                        "the abandoned transaction, open since offset 1, still holds the LSO back");
            }
        }
        // A new producer of the abandoned id aborts what its predecessor left open.
        try (KafkaProducer<String, String> successor = transactionalProducer(target, abandonedId, Map.of())) {
            successor.initTransactions();
        }
        assertEquals(List.of("before-restart", "after-restart"),
                readAll(target, List.of(tp), IsolationLevel.READ_COMMITTED));
        assertEquals(List.of("before-restart", "abandoned", "after-restart"),
                readAll(target, List.of(tp), IsolationLevel.READ_UNCOMMITTED));
    }

    @Test
    void theAdminClientDescribesListsAndSeesProducers(KafkaTarget target) throws Exception {
        String topic = unique("txn-admin");
        TopicPartition tp = new TopicPartition(topic, 0);
        String transactionalId = unique("txn-id");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = transactionalProducer(target, transactionalId, Map.of())) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(topic, 0, null, "v")).get();
                TransactionDescription open = get(admin.describeTransactions(List.of(transactionalId)).all())
                        .get(transactionalId);
                assertEquals("Ongoing", open.state().toString());
                assertEquals(java.util.Set.of(tp), open.topicPartitions());
                assertTrue(open.transactionStartTimeMs().isPresent());
                long producerId = open.producerId();
                List<ProducerState> producers = get(admin.describeProducers(List.of(tp)).all()).get(tp)
                        .activeProducers();
                assertEquals(1, producers.size());
                assertEquals(producerId, producers.get(0).producerId());
                assertEquals(0L, producers.get(0).currentTransactionStartOffset().getAsLong());
                assertTrue(get(admin.listTransactions().all()).stream()
                        .anyMatch(l -> l.transactionalId().equals(transactionalId)
                                && l.state().toString().equals("Ongoing") && l.producerId() == producerId));
                producer.commitTransaction();
                Eventually.run(() -> assertEquals("CompleteCommit", get(admin.describeTransactions(
                        List.of(transactionalId)).all()).get(transactionalId).state().toString()));
                ProducerState after = get(admin.describeProducers(List.of(tp)).all()).get(tp).activeProducers().get(0);
                assertFalse(after.currentTransactionStartOffset().isPresent(), "no open transaction: " + after);
                assertTrue(after.coordinatorEpoch().isPresent(), "the marker's coordinator epoch: " + after);
                List<TransactionListing> ongoing = new ArrayList<>(get(admin.listTransactions(
                        new org.apache.kafka.clients.admin.ListTransactionsOptions().filterStates(
                                List.of(org.apache.kafka.clients.admin.TransactionState.ONGOING))).all()));
                assertTrue(ongoing.stream().noneMatch(l -> l.transactionalId().equals(transactionalId)), ongoing.toString());
            }
        }
    }

    /** The cluster's finalized transaction.version (0 where the feature is not finalized, as on Kafka 3.9). */
    private static short transactionVersion(Admin admin) throws Exception {
        FinalizedVersionRange range = get(admin.describeFeatures().featureMetadata()).finalizedFeatures()
                .get("transaction.version");
        return range == null ? 0 : range.maxVersionLevel();
    }
}
