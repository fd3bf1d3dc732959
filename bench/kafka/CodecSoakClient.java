import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
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
 * The Java client's side of bench/kafka/codec_soak.py, shaped like kcat so the script drives both alike.
 *
 * <pre>
 * produce BOOTSTRAP TOPIC CODEC     reads "key:value" lines from stdin and sends each (acks=all, idempotent, one
 *                                   request in flight, compression.type=CODEC); a failed send prints a line with
 *                                   "failed" on stderr; at the end prints "acked N" and exits 1 if any send failed
 * consume BOOTSTRAP PARTITIONS TOPIC...  reads every partition of the topics from the beginning and prints
 *                                   "partition key value" per record until killed (kcat -f '%p %k %s\n')
 * </pre>
 */
public final class CodecSoakClient {
    public static void main(String[] args) throws Exception {
        if (args.length >= 4 && args[0].equals("produce")) {
            System.exit(produce(args[1], args[2], args[3]));
        } else if (args.length >= 4 && args[0].equals("consume")) {
            List<String> topics = List.of(args).subList(3, args.length);
            consume(args[1], Integer.parseInt(args[2]), topics);
        } else {
            System.err.println("usage: produce BOOTSTRAP TOPIC CODEC | consume BOOTSTRAP PARTITIONS TOPIC...");
            System.exit(2);
        }
    }

    private static int produce(String bootstrap, String topic, String codec) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        // One request in flight, as the kcat producers: per key the log order is the send order.
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        AtomicLong acked = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        try (KafkaProducer<String, String> producer =
                 new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
             BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                int colon = line.indexOf(':');
                String key = line.substring(0, colon);
                producer.send(new ProducerRecord<>(topic, key, line.substring(colon + 1)), (metadata, e) -> {
                    if (e == null) {
                        acked.incrementAndGet();
                    } else if (failed.incrementAndGet() <= 5) {
                        synchronized (err) {
                            err.println("delivery failed for " + key + ": " + e);
                        }
                    }
                });
            }
            producer.flush();
        }
        System.out.println("acked " + acked.get() + " failed " + failed.get());
        return failed.get() == 0 ? 0 : 1;
    }

    private static void consume(String bootstrap, int partitions, List<String> topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        List<TopicPartition> assigned = new ArrayList<>();
        for (String topic : topics) {
            for (int i = 0; i < partitions; i++) {
                assigned.add(new TopicPartition(topic, i));
            }
        }
        PrintWriter out = new PrintWriter(new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8),
            1 << 16));
        try (KafkaConsumer<String, String> consumer =
                 new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(assigned);
            consumer.seekToBeginning(assigned);
            while (!out.checkError()) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
                    out.print(r.partition());
                    out.print(' ');
                    out.print(r.key());
                    out.print(' ');
                    out.print(r.value());
                    out.print('\n');
                }
                out.flush();
            }
        }
    }

    private CodecSoakClient() {
    }
}
