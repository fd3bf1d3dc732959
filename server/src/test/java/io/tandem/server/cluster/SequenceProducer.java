package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * An idempotent acks=all producer writing 0, 1, 2, ... to partition n % partitions at a steady rate on its own
 * thread, remembering the offset each acknowledged number got; and the check that reads everything back: every
 * acknowledged number at its offset, every number at most once and in order per partition.
 */
final class SequenceProducer implements AutoCloseable {
    /** Records sent and not answered yet: bounds what piles up while a partition has no leader. */
    private static final int IN_FLIGHT_MAX = 2_000;

    /** An event (a kill) and the first acknowledgement after it of a record sent after it to {@code partitions}. */
    record Failover(long atNanos, Set<Integer> partitions, AtomicLong firstAckNanos) {
        long millis() {
            return TimeUnit.NANOSECONDS.toMillis(firstAckNanos.get() - atNanos);
        }
    }

    private final String bootstrapServers;
    private final String topic;
    private final int partitions;
    private final int recordsPerSecond;
    /** Per partition: acknowledged offset -> the number written there. */
    private final List<Map<Long, Long>> acked = new ArrayList<>();
    private final ConcurrentLinkedQueue<String> failedSends = new ConcurrentLinkedQueue<>();
    private final AtomicLong ackCount = new AtomicLong();
    private volatile Failover failover;
    private volatile boolean producing = true;
    private final Thread thread;

    SequenceProducer(String bootstrapServers, String topic, int partitions, int recordsPerSecond) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.partitions = partitions;
        this.recordsPerSecond = recordsPerSecond;
        for (int p = 0; p < partitions; p++) acked.add(new ConcurrentHashMap<>());
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // Nothing may fail for lack of time while the test runs: every record is retried until it is acknowledged.
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "120000");
        props.put(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "500");
        KafkaProducer<String, String> producer = new KafkaProducer<>(props, new StringSerializer(),
                new StringSerializer());
        thread = new Thread(() -> {
            try (producer) {
                produce(producer);
            }
        }, "sequence-producer");
        thread.start();
    }

    private void produce(KafkaProducer<String, String> producer) {
        Semaphore inFlight = new Semaphore(IN_FLIGHT_MAX);
        long intervalNanos = TimeUnit.SECONDS.toNanos(1) / recordsPerSecond;
        long next = System.nanoTime();
        try {
            for (long n = 0; producing; ) {
                if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
                long value = n++;
                int partition = (int) (value % partitions);
                long sentAt = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, partition, null, Long.toString(value)), (metadata, e) -> {
                    inFlight.release();
                    if (e != null) {
                        failedSends.add(value + ": " + e);
                        return;
                    }
                    acked.get(partition).put(metadata.offset(), value);
                    ackCount.incrementAndGet();
                    Failover current = failover;
                    if (current != null && sentAt - current.atNanos() >= 0
                            && (current.partitions().isEmpty() || current.partitions().contains(partition))) {
                        current.firstAckNanos().compareAndSet(0, System.nanoTime());
                    }
                });
                next += intervalNanos;
                long now = System.nanoTime();
                // After a stall, carry on at the steady rate rather than send the backlog in one burst.
                if (now - next > TimeUnit.MILLISECONDS.toNanos(100)) next = now;
                if (next - now > 0) LockSupport.parkNanos(next - now);
            }
            producer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    long ackCount() {
        return ackCount.get();
    }

    long acknowledged(int partition) {
        return acked.get(partition).size();
    }

    /** From now on, watch for the first acknowledgement of a record sent from now on to {@code partitions} (all if empty). */
    Failover watchFailover(Set<Integer> partitionsAffected) {
        Failover current = new Failover(System.nanoTime(), Set.copyOf(partitionsAffected), new AtomicLong());
        failover = current;
        return current;
    }

    /** Stops sending, waits for every answer, and fails if any record was refused for good. */
    void finish() throws InterruptedException {
        producing = false;
        thread.join(ProcessCluster.AWAIT_MS);
        assertTrue(failedSends.isEmpty(), "sends failed: " + failedSends);
    }

    /**
     * Reads every partition from the start to its end offset: each number must be in partition number % partitions,
     * later than the one before it there (so none twice, none out of order), and each acknowledged number must be at
     * the offset its acknowledgement gave. Prints the counts.
     */
    void verifyEveryAcknowledgedRecordOnce(String name) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<TopicPartition> all = new ArrayList<>();
        for (int p = 0; p < partitions; p++) all.add(new TopicPartition(topic, p));
        Map<Integer, Map<Long, Long>> consumed = new HashMap<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(),
                new StringDeserializer())) {
            consumer.assign(all);
            consumer.seekToBeginning(all);
            Map<TopicPartition, Long> end = consumer.endOffsets(all, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ProcessCluster.AWAIT_MS);
            long[] last = new long[partitions];
            Arrays.fill(last, -1);
            while (all.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                assertTrue(System.nanoTime() - deadline < 0, "could not read up to " + end);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    long value = Long.parseLong(r.value());
                    assertEquals(r.partition(), value % partitions, "record " + value + " in partition " + r.partition());
                    assertTrue(value > last[r.partition()], "partition " + r.partition() + ": " + value + " at offset "
                            + r.offset() + " after " + last[r.partition()] + " (duplicated or out of order)");
                    last[r.partition()] = value;
                    consumed.computeIfAbsent(r.partition(), p -> new HashMap<>()).put(r.offset(), value);
                }
            }
        }
        long total = 0;
        for (int p = 0; p < partitions; p++) {
            Map<Long, Long> read = consumed.getOrDefault(p, Map.of());
            for (Map.Entry<Long, Long> e : acked.get(p).entrySet()) {
                assertEquals(e.getValue(), read.get(e.getKey()), "partition " + p + " offset " + e.getKey()
                        + " was acknowledged for record " + e.getValue());
            }
            total += acked.get(p).size();
            System.out.println(name + ": partition " + p + ": " + acked.get(p).size() + " acknowledged, "
                    + read.size() + " read, each once and in order");
        }
        System.out.println(name + ": " + total + " acknowledged records read back at their offsets");
    }

    @Override
    public void close() throws InterruptedException {
        producing = false;
        thread.join(30_000);
    }
}
