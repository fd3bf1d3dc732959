package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Three consumers of one group join and leave over six partitions while records keep arriving, with the classic
 * protocol (client-side eager {@code range} and {@code cooperative-sticky}) and with the consumer protocol (KIP-848,
 * the server-side {@code uniform} and {@code range} assignors). Each consumer commits synchronously right after every
 * poll; a record counts as consumed once its offset is committed. Whatever the rebalances do, every record must be
 * consumed exactly once and the group's committed offsets must end at the log end. Consumers are driven round-robin
 * from one thread, as both protocols allow (classic joins continue across polls; the consumer protocol heartbeats
 * from the client's background thread).
 */
@ExtendWith(KafkaTargetExtension.class)
class ConsumerGroupRebalanceTest {
    private static final int PARTITIONS = 6;
    private static final int PER_PHASE = 300;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"classic/range", "classic/cooperative-sticky", "consumer/uniform", "consumer/range"})
    void threeConsumersRebalancingConsumeEveryRecordExactlyOnce(String assignor, KafkaTarget target)
            throws Exception {
        String topic = unique("rebalance");
        String group = unique("group");
        try (Admin admin = admin(target); KafkaProducer<String, String> producer = stringProducer(target)) {
            createTopic(admin, topic, PARTITIONS);
            Map<String, Integer> consumed = new HashMap<>();
            List<Member> members = new ArrayList<>();
            try {
                produce(producer, topic, 0);
                members.add(new Member(target, group, topic, assignor));
                pollUntil(members, consumed, () -> balanced(members));
                members.add(new Member(target, group, topic, assignor));
                pollUntil(members, consumed, () -> balanced(members));
                members.add(new Member(target, group, topic, assignor));
                pollUntil(members, consumed, () -> balanced(members));
                for (Member member : members) {
                    assertEquals(2, member.consumer.assignment().size(),
                            "six partitions over three members: " + assignments(members));
                }
                produce(producer, topic, PER_PHASE);
                pollUntil(members, consumed, () -> consumed.size() >= PER_PHASE + PER_PHASE / 2);
                members.remove(0).close();
                pollUntil(members, consumed, () -> balanced(members) && consumed.size() == 2 * PER_PHASE);
                for (Member member : members) {
                    assertEquals(3, member.consumer.assignment().size(), "after one left: " + assignments(members));
                }
                // Nothing more may arrive: a redelivered record here would be a duplicate.
                for (int i = 0; i < 5; i++) {
                    for (Member member : members) {
                        member.pollAndCommit(consumed);
                    }
                }
            } finally {
                members.forEach(Member::close);
            }
            Map<String, Integer> duplicates = new TreeMap<>();
            consumed.forEach((value, count) -> { if (count != 1) duplicates.put(value, count); });
            assertEquals(Map.of(), duplicates, "records consumed more than once");
            assertEquals(2 * PER_PHASE, consumed.size(), "distinct records consumed");

            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (int p = 0; p < PARTITIONS; p++) {
                latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
            }
            Map<TopicPartition, OffsetAndMetadata> committed = get(admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata());
            var ends = get(admin.listOffsets(latest).all());
            for (TopicPartition tp : latest.keySet()) {
                assertEquals(ends.get(tp).offset(), committed.get(tp).offset(), "committed offset of " + tp);
                assertEquals(2 * PER_PHASE / PARTITIONS, ends.get(tp).offset(), "log end of " + tp);
            }
        }
    }

    private static void produce(KafkaProducer<String, String> producer, String topic, int first) {
        for (int i = first; i < first + PER_PHASE; i++) {
            producer.send(new ProducerRecord<>(topic, i % PARTITIONS, null, "v" + i));
        }
        producer.flush();
    }

    private static boolean balanced(List<Member> members) {
        Set<TopicPartition> union = new HashSet<>();
        for (Member member : members) {
            Set<TopicPartition> owned = member.consumer.assignment();
            if (owned.size() != PARTITIONS / members.size()) {
                return false;
            }
            union.addAll(owned);
        }
        return union.size() == PARTITIONS;
    }

    private static Map<String, Set<TopicPartition>> assignments(List<Member> members) {
        Map<String, Set<TopicPartition>> all = new LinkedHashMap<>();
        members.forEach(m -> all.put(m.consumer.groupMetadata().memberId(), m.consumer.assignment()));
        return all;
    }

    private static void pollUntil(List<Member> members, Map<String, Integer> consumed, BooleanSupplier done) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("group did not get there within 60 s; assignments " + assignments(members)
                        + ", consumed " + consumed.size());
            }
            for (Member member : members) {
                member.pollAndCommit(consumed);
            }
        }
    }

    /** One consumer of the group. */
    private static final class Member implements ConsumerRebalanceListener {
        final KafkaConsumer<String, String> consumer;

        /** {@code assignor} is "protocol/assignor": a client-side one for classic, a server-side one for consumer. */
        Member(KafkaTarget target, String group, String topic, String assignor) {
            String[] protocolAndAssignor = assignor.split("/");
            Properties props = consumerProps(target, group);
            props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 20);
            if (protocolAndAssignor[0].equals("classic")) {
                props.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG,
                        (protocolAndAssignor[1].equals("range") ? RangeAssignor.class : CooperativeStickyAssignor.class)
                                .getName());
                props.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 30_000);
                // A classic member learns of a rebalance from its next heartbeat's REBALANCE_IN_PROGRESS: four
                // rebalances (two rounds each for cooperative-sticky) each waited up to a 1 s interval for it.
                props.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 250);
            } else {
                // The broker sets the session and heartbeat; the client may only name the server-side assignor.
                props.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
                props.put(ConsumerConfig.GROUP_REMOTE_ASSIGNOR_CONFIG, protocolAndAssignor[1]);
            }
            consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
            consumer.subscribe(List.of(topic), this);
        }

        void pollAndCommit(Map<String, Integer> consumed) {
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(100));
            if (records.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            Map<TopicPartition, Long> firsts = new HashMap<>();
            for (ConsumerRecord<String, String> record : records) {
                TopicPartition tp = new TopicPartition(record.topic(), record.partition());
                offsets.put(tp, new OffsetAndMetadata(record.offset() + 1));
                firsts.putIfAbsent(tp, record.offset());
            }
            try {
                consumer.commitSync(offsets);
            } catch (RebalanceInProgressException | CommitFailedException e) {
                // Not committed, so not consumed: rewind what this member still owns so it is delivered again.
                firsts.forEach((tp, offset) -> { if (consumer.assignment().contains(tp)) consumer.seek(tp, offset); });
                return;
            }
            for (ConsumerRecord<String, String> record : records) {
                consumed.merge(record.value(), 1, Integer::sum);
            }
        }

        @Override public void onPartitionsRevoked(Collection<TopicPartition> partitions) {}

        @Override public void onPartitionsAssigned(Collection<TopicPartition> partitions) {}

        void close() {
            consumer.close();
        }
    }
}
