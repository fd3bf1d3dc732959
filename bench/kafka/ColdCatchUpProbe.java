import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.storage.log.PageCacheWarmer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * A tail consumer's latency while a second consumer catches up on a log that is not in the page cache, with one
 * Kafka event loop (num.network.threads=1) so both share it. A producer sends a 100-byte record every 5 ms to topic
 * `tail`; a consumer at its end measures send-to-receive time. Meanwhile topic `big` (MB of 1 KB records, fsynced and
 * evicted with `dd iflag=nocache count=0`) is read from offset 0. Mode `nowarm` turns the broker's PageCacheWarmer
 * off by reflection (its state on a JVM without sun.misc.Unsafe), the code as it was before. Prints figures.
 * Usage (after `mvn -o -pl server -am -DskipTests package`; kafka-clients from the local repository):
 *   java -cp "server/target/tandem-server.jar:server/target/lib/*:$KAFKA_CLIENTS_JAR" \
 *        bench/kafka/ColdCatchUpProbe.java warm|nowarm [MB, default 200]
 */
public class ColdCatchUpProbe {
    public static void main(String[] args) throws Exception {
        boolean warm = args[0].equals("warm");
        int mb = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        Path dir = Files.createTempDirectory("cold-catch-up");
        TandemConfig config = TandemConfig.forTests(dir).set("num.network.threads", "1");
        try (Tandem tandem = Tandem.start(config)) {
            run(tandem, warm, mb);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
            }
        }
    }

    private static void run(Tandem tandem, boolean warm, int mb) throws Exception {
        {
            Method kafkaBroker = Tandem.class.getDeclaredMethod("kafkaBroker");
            kafkaBroker.setAccessible(true);
            Object broker = kafkaBroker.invoke(tandem);
            PageCacheWarmer warmer = (PageCacheWarmer) broker.getClass().getMethod("pageCache").invoke(broker);
            if (!warm) {
                Field unmapper = PageCacheWarmer.class.getDeclaredField("unmapper");
                unmapper.setAccessible(true);
                unmapper.set(warmer, null);
            }
            String bootstrap = tandem.bootstrapServers();
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                admin.createTopics(List.of(new NewTopic("big", 1, (short) 1), new NewTopic("tail", 1, (short) 1)))
                        .all().get();
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            pp.put(ProducerConfig.BATCH_SIZE_CONFIG, "65536");
            int records = mb * 1000;
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                byte[] value = new byte[1000];
                Random random = new Random(1);
                for (int i = 0; i < records; i++) {
                    random.nextBytes(value);
                    producer.send(new ProducerRecord<>("big", 0, null, value.clone()));
                }
                producer.flush();
            }
            List<Path> segments;
            try (Stream<Path> files = Files.list(tandem.kafkaLogDir().resolve("big-0"))) {
                segments = files.filter(f -> f.toString().endsWith(".log")).toList();
            }
            for (Path segment : segments) {
                try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ)) {
                    channel.force(true);
                }
                new ProcessBuilder("dd", "if=" + segment, "iflag=nocache", "count=0").inheritIO().start().waitFor();
            }

            AtomicBoolean stop = new AtomicBoolean();
            List<Long> latenciesUs = Collections.synchronizedList(new ArrayList<>());
            Thread tailProducer = new Thread(() -> {
                try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                        new ByteArraySerializer())) {
                    while (!stop.get()) {
                        producer.send(new ProducerRecord<>("tail", 0, null,
                                ByteBuffer.allocate(100).putLong(System.nanoTime()).array()));
                        Thread.sleep(5);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            AtomicBoolean measuring = new AtomicBoolean();
            Thread tailConsumer = new Thread(() -> {
                Properties cp = consumerProps(bootstrap);
                cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
                    consumer.assign(List.of(new TopicPartition("tail", 0)));
                    consumer.seekToEnd(List.of(new TopicPartition("tail", 0)));
                    while (!stop.get()) {
                        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                            long sent = ByteBuffer.wrap(r.value()).getLong();
                            if (measuring.get()) latenciesUs.add((System.nanoTime() - sent) / 1000);
                        }
                    }
                }
            });
            tailProducer.start();
            tailConsumer.start();
            Thread.sleep(3000); // the tail pair settles
            String load = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
            PageCacheWarmer.Stats before = warmer.stats();
            long start = System.nanoTime();
            measuring.set(true);
            long read = 0;
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProps(bootstrap),
                    new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                TopicPartition tp = new TopicPartition("big", 0);
                consumer.assign(List.of(tp));
                consumer.seek(tp, 0);
                while (read < records) read += consumer.poll(Duration.ofMillis(200)).count();
            }
            measuring.set(false);
            long catchUpMs = (System.nanoTime() - start) / 1_000_000;
            stop.set(true);
            tailProducer.join();
            tailConsumer.join();
            List<Long> sorted = new ArrayList<>(latenciesUs);
            Collections.sort(sorted);
            PageCacheWarmer.Stats after = warmer.stats();
            System.out.printf("%s: %d MB caught up in %,d ms (load %s); tail latency over %d records: p50 %.1f ms,"
                            + " p99 %.1f ms, max %.1f ms; slices warmed %d of %d checked%n",
                    warm ? "warm" : "nowarm", mb, catchUpMs, load, sorted.size(),
                    pct(sorted, 0.50) / 1000.0, pct(sorted, 0.99) / 1000.0, sorted.get(sorted.size() - 1) / 1000.0,
                    after.warmed() - before.warmed(), after.checked() - before.checked());
        }
    }

    private static Properties consumerProps(String bootstrap) {
        Properties cp = new Properties();
        cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return cp;
    }

    private static long pct(List<Long> sorted, double q) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
    }
}
