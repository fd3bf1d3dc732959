package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The exactly-once counting application of {@link StreamsExactlyOnceTest} (exactly_once_v2, a RocksDB count behind a
 * repartition topic and a changelog) stopped mid-stream and replaced by a new {@link KafkaStreams} with the same
 * application id: the first instance is stopped once about half of the first batch is counted (or its thread hung
 * there, see {@link Stop}), the second batch is sent after the new one runs. A read_committed reader that follows the
 * output through both never sees a count above the records sent for its key or a count going down, and ends at
 * exactly the records sent; the group's committed input offsets end at the input's end offsets.
 */
@ExtendWith(KafkaTargetExtension.class)
class StreamsExactlyOnceRestartTest {
    private static final int KEYS = 5;
    private static final int FIRST_BATCH = 400;
    private static final int SECOND_BATCH = 100;
    /** Small polls, so the first batch takes several transactions and the stop falls between (or inside) them. */
    private static final int MAX_POLL_RECORDS = 10;

    /** How the first instance is stopped, and where the second keeps its state. */
    enum Stop {
        /** {@code close()}: its threads commit their open transaction and write checkpoints before it returns. */
        CLOSE,
        /**
         * {@code close(Duration.ZERO)}: returns at once, its threads stopping in the background; the new instance on
         * the same state directory is built as soon as the old one has let go of the directory lock (Streams refuses
         * two instances on one directory), and takes over the same process id and so the same transactional ids.
         */
        CLOSE_WITHOUT_WAITING,
        /**
         * {@code close(Duration.ZERO)} and a new instance on an empty state directory, started at once beside the old
         * one's shutdown: a new process id, its count store restored from the changelog.
         */
        CLOSE_WITHOUT_WAITING_EMPTY_STATE,
        /**
         * The first instance's stream thread hangs inside processing, its transaction open with count updates sent in
         * it, and {@code close(Duration.ZERO)} cannot stop it: a hard stop as the broker sees it. The broker aborts the
         * transaction at its timeout and the member leaves the group when its poll interval passes (both short here);
         * a new instance on an empty state directory takes over. Released at the end, the hung thread is fenced.
         */
        HANG_MID_TRANSACTION
    }

    /**
     * Holds the first instance's stream thread at the first count update it forwards on from the {@code at}-th, once
     * the instance is RUNNING. Not before: Streams 4.x processes the tasks the state updater has handed back while
     * others still restore (the thread is PARTITIONS_ASSIGNED), and only that thread, between its processing rounds,
     * moves the instance to RUNNING. A thread held there keeps the instance short of RUNNING for good: a CI run
     * failed so (the first instance never RUNNING, its thread silent with a transaction open), and slowing one
     * changelog's restoration while the other task counts makes the old hold fail that way on Apache 4.4 and Tandem
     * alike. {@link #arm()} runs in the state listener, on that thread, before it processes anything more.
     */
    private static final class Hold {
        final CountDownLatch held = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        private final long at;
        private final AtomicLong seen = new AtomicLong();
        private volatile boolean armed;

        Hold(long at) {
            this.at = at;
        }

        void arm() {
            armed = true;
        }

        void onCountUpdate() {
            if (seen.incrementAndGet() < at || !armed) return;
            held.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @TempDir
    Path stateDir;

    @ParameterizedTest
    @EnumSource(Stop.class)
    void anExactlyOnceApplicationRestartedMidStreamCountsEveryInputRecordOnce(Stop stop, KafkaTarget target)
            throws Exception {
        String input = unique("eos-restart-in");
        String output = unique("eos-restart-out");
        String application = unique("eos-restart-app");
        Map<String, Long> sent = new HashMap<>();
        try (Admin admin = admin(target)) {
            createTopic(admin, input, 2);
            createTopic(admin, output, 2);
            try (KafkaProducer<String, String> producer = stringProducer(target);
                    CommittedCounts reader = new CommittedCounts(target, output, sent)) {
                send(producer, input, 0, FIRST_BATCH, sent);

                AtomicLong restored = new AtomicLong();
                boolean hang = stop == Stop.HANG_MID_TRANSACTION;
                Hold hold = new Hold(hang ? FIRST_BATCH / 2 : Long.MAX_VALUE);
                KafkaStreams first = null;
                KafkaStreams second = null;
                try {
                    first = start(config(target, application, stateDir.resolve("first"), hang),
                            () -> topology(input, output, hold), restored, hold::arm);
                    if (hang) {
                        assertTrue(hold.held.await(60, TimeUnit.SECONDS), "the first instance's thread hung");
                    } else {
                        reader.awaitCounted(FIRST_BATCH / 2);
                    }
                    Path secondDir = stateDir.resolve("first");
                    switch (stop) {
                        case CLOSE -> assertTrue(first.close(TIMEOUT), "the first instance closed");
                        case CLOSE_WITHOUT_WAITING -> first.close(Duration.ZERO);
                        case CLOSE_WITHOUT_WAITING_EMPTY_STATE, HANG_MID_TRANSACTION -> {
                            first.close(Duration.ZERO);
                            secondDir = stateDir.resolve("second");
                        }
                    }
                    second = start(config(target, application, secondDir, false),
                            () -> topology(input, output, new Hold(Long.MAX_VALUE)), restored, () -> { });
                    // A hung thread let go now goes on with its transaction, which the broker has aborted: anything
                    // of it that got through would show in the counts the reader checks from here on.
                    hold.release.countDown();
                    first.close(TIMEOUT);
                    send(producer, input, FIRST_BATCH, SECOND_BATCH, sent);
                    reader.awaitFinal();
                    // Not with a hung first instance: the transaction it hung in may have been its first, leaving
                    // nothing committed to restore.
                    if (stop == Stop.CLOSE_WITHOUT_WAITING_EMPTY_STATE) {
                        assertTrue(restored.get() > 0, "the new instance restored its store from the changelog");
                    }
                } finally {
                    // Also when the first instance never started: its thread may be held all the same.
                    hold.release.countDown();
                    if (first != null) {
                        first.close(TIMEOUT);
                    }
                    if (second != null) {
                        second.close(TIMEOUT);
                    }
                }
                assertEquals(sent, reader.latest);
            }

            assertInputCommitted(admin, application, input, FIRST_BATCH + SECOND_BATCH);
        }
    }

    /**
     * The group's committed offsets on both input partitions equal their end offsets, which add up to {@code records}.
     * The output and the offsets are committed in one transaction, but the offsets become readable when the group
     * coordinator has its commit marker, which need not be before the output partitions have theirs.
     */
    static void assertInputCommitted(Admin admin, String application, String input, int records) throws Exception {
        List<TopicPartition> partitions = List.of(new TopicPartition(input, 0), new TopicPartition(input, 1));
        Map<TopicPartition, Long> ends = get(admin.listOffsets(partitions.stream()
                .collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()))).all()).entrySet().stream()
                .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        assertEquals(records, ends.values().stream().mapToLong(Long::longValue).sum(), "input end offsets " + ends);
        Eventually.run(() -> {
            Map<TopicPartition, OffsetAndMetadata> committed =
                    get(admin.listConsumerGroupOffsets(application).partitionsToOffsetAndMetadata());
            Map<TopicPartition, Long> committedInput = partitions.stream()
                    .filter(committed::containsKey)
                    .collect(Collectors.toMap(p -> p, p -> committed.get(p).offset()));
            assertEquals(ends, committedInput, "the group's committed input offsets");
        });
    }

    private static void send(KafkaProducer<String, String> producer, String topic, int from, int count,
            Map<String, Long> sent) {
        for (int i = from; i < from + count; i++) {
            String key = "k" + (i % KEYS);
            // Counted as sent before it is sent, so a count the reader sees is never compared with too small a total.
            synchronized (sent) {
                sent.merge(key, 1L, Long::sum);
            }
            producer.send(new ProducerRecord<>(topic, Integer.toString(i), key + "-" + i));
        }
        producer.flush();
    }

    private static Topology topology(String input, String output, Hold hold) {
        StreamsBuilder builder = new StreamsBuilder();
        // Re-keyed first, so the count goes through a repartition topic as well as a changelog.
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .selectKey((key, value) -> value.substring(0, value.indexOf('-')))
                .groupByKey(Grouped.with(Serdes.String(), Serdes.String()))
                .count()
                .toStream()
                .peek((key, count) -> hold.onCountUpdate())
                .to(output, Produced.with(Serdes.String(), Serdes.Long()));
        return builder.build();
    }

    private static Properties config(KafkaTarget target, String application, Path stateDir, boolean hangs) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, application);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        props.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), MAX_POLL_RECORDS);
        // Streams does not leave the group on close, so a new instance's rebalance waits for the old member's session
        // to expire: the smallest session the broker allows by default.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
        // No record cache: every count update goes to the changelog and the output as it is made, so a transaction
        // left open holds some.
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        if (hangs) {
            props.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG), 4000);
            props.put(StreamsConfig.producerPrefix(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG), 4000);
        }
        return props;
    }

    /**
     * A started instance that reached RUNNING. On the old one's state directory the constructor fails until the old
     * one has closed, so it is retried until then. {@code onRunning} runs at the first move to RUNNING, on the stream
     * thread that made it, before that thread processes further.
     */
    private static KafkaStreams start(Properties config, Supplier<Topology> topology, AtomicLong restored,
            Runnable onRunning) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        KafkaStreams streams;
        while (true) {
            try {
                streams = new KafkaStreams(topology.get(), config);
                break;
            } catch (StreamsException e) {
                assertTrue(System.nanoTime() < deadline, "the old instance never let go of its state directory: " + e);
                Thread.sleep(50);
            }
        }
        CountDownLatch running = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            if (now == KafkaStreams.State.RUNNING && running.getCount() > 0) {
                onRunning.run();
                running.countDown();
            }
        });
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(TopicPartition partition, String store, long start, long end) {}

            @Override
            public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long records) {
                restored.addAndGet(records);
            }

            @Override
            public void onRestoreEnd(TopicPartition partition, String store, long total) {}
        });
        streams.start();
        if (!running.await(60, TimeUnit.SECONDS)) {
            streams.close(Duration.ZERO);
            throw new AssertionError("the application never reached RUNNING; it is " + streams.state());
        }
        return streams;
    }

    /** Follows the output at read_committed for the whole test, checking every count it sees as it sees it. */
    private static final class CommittedCounts implements AutoCloseable {
        final Map<String, Long> latest = new HashMap<>();
        private final Map<String, Long> sent;
        private final KafkaConsumer<String, Long> consumer;

        CommittedCounts(KafkaTarget target, String output, Map<String, Long> sent) {
            this.sent = sent;
            Properties props = consumerProps(target, null);
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString());
            consumer = new KafkaConsumer<>(props, new StringDeserializer(), new LongDeserializer());
            List<TopicPartition> partitions = List.of(new TopicPartition(output, 0), new TopicPartition(output, 1));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }

        /** Until the visible counts add up to at least {@code records}. */
        void awaitCounted(long records) {
            pollUntil(() -> latest.values().stream().mapToLong(Long::longValue).sum() >= records,
                    "at least " + records + " records counted");
        }

        /** Until every key's visible count is the records sent for it. */
        void awaitFinal() {
            pollUntil(() -> {
                synchronized (sent) {
                    return latest.equals(sent);
                }
            }, "the final counts");
        }

        private void pollUntil(java.util.function.BooleanSupplier done, String what) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!done.getAsBoolean()) {
                assertTrue(System.nanoTime() < deadline, what + " never seen: sent " + sent + ", last " + latest);
                for (ConsumerRecord<String, Long> r : consumer.poll(Duration.ofMillis(100))) {
                    long sentForKey;
                    synchronized (sent) {
                        sentForKey = sent.getOrDefault(r.key(), 0L);
                    }
                    assertTrue(r.value() <= sentForKey, "a count above the " + sentForKey + " records sent: " + r);
                    Long before = latest.put(r.key(), r.value());
                    assertFalse(before != null && r.value() < before, "a count went down from " + before + ": " + r);
                }
            }
        }

        @Override
        public void close() {
            consumer.close(Duration.ZERO);
        }
    }
}
