package io.tandem.server.cluster;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Writers of transactions for a safety check: each writer thread (its own {@code transactional.id}) runs transactions
 * one after the other, each writing one unique value to each of two or three partitions picked at random, then
 * committing or (one in four) aborting. What each transaction wrote and how it ended is recorded: committed (commit
 * returned), aborted (abort returned), or unknown (an error on the way: the outcome is the cluster's to decide, and
 * the next producer with the same transactional.id fences it). Values read {@code w<writer>-<txn>-<partition>}.
 */
final class TransactionalWorkload implements AutoCloseable {
    enum Outcome { COMMITTED, ABORTED, UNKNOWN }

    /** One transaction: its writer, its number in that writer's sequence, the values it sent, and how it ended. */
    record Txn(int writer, int number, List<String> values, Outcome outcome) {
    }

    private final String bootstrapServers;
    private final String topic;
    private final int partitions;
    private final AtomicBoolean stopping = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, Txn> txns = new ConcurrentHashMap<>();
    private final List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());

    TransactionalWorkload(String bootstrapServers, String topic, int partitions, int writers) {
        this.bootstrapServers = bootstrapServers;
        this.topic = topic;
        this.partitions = partitions;
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread thread = new Thread(() -> run(writer), "txn-writer-" + w);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    private KafkaProducer<String, String> producer(int writer) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "safety-writer-" + writer);
        props.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 15_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
        props.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }

    private void run(int writer) {
        KafkaProducer<String, String> producer = null;
        int number = 0;
        while (!stopping.get()) {
            try {
                if (producer == null) {
                    producer = producer(writer);
                    producer.initTransactions(); // fences and ends the previous producer's open transaction
                }
                number++;
                List<String> values = new ArrayList<>();
                List<Integer> chosen = new ArrayList<>();
                for (int p = 0; p < partitions; p++) chosen.add(p);
                Collections.shuffle(chosen);
                int count = 2 + ThreadLocalRandom.current().nextInt(2);
                boolean abort = ThreadLocalRandom.current().nextInt(4) == 0;
                producer.beginTransaction();
                String key = "w" + writer + "-" + number;
                // Recorded before sending: if anything below fails the outcome is unknown, values included.
                txns.put(key, new Txn(writer, number, values, Outcome.UNKNOWN));
                for (int i = 0; i < count; i++) {
                    String value = key + "-" + chosen.get(i);
                    values.add(value);
                    producer.send(new ProducerRecord<>(topic, chosen.get(i), key, value));
                }
                if (abort) {
                    producer.abortTransaction();
                    txns.put(key, new Txn(writer, number, values, Outcome.ABORTED));
                } else {
                    producer.commitTransaction();
                    txns.put(key, new Txn(writer, number, values, Outcome.COMMITTED));
                }
            } catch (RuntimeException e) {
                // Fenced, timed out, or the coordinator moved: a new producer takes over the transactional.id.
                if (producer != null) producer.close(java.time.Duration.ZERO);
                producer = null;
            } catch (Throwable t) {
                failures.add(t);
                return;
            }
        }
        if (producer != null) producer.close(java.time.Duration.ofSeconds(10));
    }

    int count(Outcome outcome) {
        return (int) txns.values().stream().filter(t -> t.outcome() == outcome).count();
    }

    /** Stops the writers after their current transaction; returns every transaction they ran. */
    Map<String, Txn> finish() throws InterruptedException {
        stopping.set(true);
        for (Thread thread : threads) thread.join(120_000);
        if (!failures.isEmpty()) throw new AssertionError("a writer failed", failures.get(0));
        return Map.copyOf(txns);
    }

    @Override
    public void close() throws InterruptedException {
        stopping.set(true);
        for (Thread thread : threads) thread.join(10_000);
    }
}
