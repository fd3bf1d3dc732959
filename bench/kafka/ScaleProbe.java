import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.RequestHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The client-side steps of run-kafka-scale.sh, run with the Kafka client jars of the download (one file, started by
 * the java source launcher), the same for both servers. Topics are named scale-000, scale-001, ...
 * <pre>
 *   create   BOOTSTRAP TOPICS PARTITIONS        creates the topics (10 per CreateTopics request) and waits until
 *                                               every partition has a leader; prints the milliseconds it took
 *   ready    BOOTSTRAP TOPICS PARTITIONS T0_NS  waits until every partition has a leader and one record to the last
 *                                               partition of every topic is acknowledged (acks=all); prints the
 *                                               milliseconds since T0_NS (the server's spawn)
 *   metadata BOOTSTRAP COUNT                    times COUNT raw Metadata v12 requests for all topics, then COUNT for
 *                                               one topic, one at a time on one connection; prints
 *                                               "all_p50 all_p99 one_p50 one_p99 all_bytes" in ms (and bytes)
 *   produce  BOOTSTRAP TOPICS PARTITIONS RECORDS  sends RECORDS 1 KB records (acks=all) round-robin over every
 *                                               partition of every topic; prints "records_per_s p50_ms p99_ms"
 * </pre>
 */
public class ScaleProbe {
    private static final long WAIT_MS = 600_000;
    private static final short METADATA_VERSION = 12;

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "create" -> create(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            case "ready" -> ready(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Long.parseLong(args[4]));
            case "metadata" -> metadata(args[1], Integer.parseInt(args[2]));
            case "produce" -> produce(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]),
                    Integer.parseInt(args[4]));
            default -> throw new IllegalArgumentException("unknown step " + args[0]);
        }
    }

    private static String topic(int i) {
        return String.format("scale-%03d", i);
    }

    private static List<String> topics(int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) names.add(topic(i));
        return names;
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "120000",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "120000"));
    }

    private static void create(String bootstrap, int topics, int partitions) throws Exception {
        long start = System.nanoTime();
        try (Admin admin = admin(bootstrap)) {
            List<String> names = topics(topics);
            for (int from = 0; from < topics; from += 10) {
                List<NewTopic> batch = new ArrayList<>();
                for (String name : names.subList(from, Math.min(topics, from + 10))) {
                    batch.add(new NewTopic(name, partitions, (short) 1));
                }
                try {
                    admin.createTopics(batch).all().get(120, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) throw e;
                }
            }
            awaitLeaders(admin, names, partitions, start);
        }
        System.out.println(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private static void awaitLeaders(Admin admin, List<String> names, int partitions, long start) throws Exception {
        while (true) {
            try {
                Map<String, TopicDescription> d = admin.describeTopics(names).allTopicNames().get(120, TimeUnit.SECONDS);
                if (d.size() == names.size() && d.values().stream().allMatch(t -> t.partitions().size() == partitions
                        && t.partitions().stream().allMatch(p -> p.leader() != null))) return;
            } catch (Exception e) {
                // not every topic is known yet
            }
            check(start, "a leader for every partition");
            Thread.sleep(100);
        }
    }

    private static void ready(String bootstrap, int topics, int partitions, long t0) throws Exception {
        long start = System.nanoTime();
        try (Admin admin = admin(bootstrap)) {
            while (true) {
                try {
                    admin.describeCluster().nodes().get(30, TimeUnit.SECONDS);
                    break;
                } catch (Exception e) {
                    check(start, "the broker");
                    Thread.sleep(50);
                }
            }
            awaitLeaders(admin, topics(topics), partitions, start);
        }
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, 0)) {
            for (int i = 0; i < topics; i++) {
                while (true) {
                    try {
                        producer.send(new ProducerRecord<>(topic(i), partitions - 1, null, new byte[1024]))
                                .get(60, TimeUnit.SECONDS);
                        break;
                    } catch (ExecutionException e) {
                        check(start, "an acknowledgement from " + topic(i));
                        Thread.sleep(50);
                    }
                }
            }
        }
        System.out.println((System.currentTimeMillis() * 1_000_000L - t0) / 1_000_000L);
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap, int lingerMs) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.LINGER_MS_CONFIG, Integer.toString(lingerMs));
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L << 20));
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "300000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "120000");
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "120000");
        return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static void metadata(String bootstrap, int count) throws Exception {
        String[] hostPort = bootstrap.split(":");
        try (Socket socket = new Socket(hostPort[0], Integer.parseInt(hostPort[1]))) {
            socket.setTcpNoDelay(true);
            DataOutputStream out = new DataOutputStream(socket.getOutputStream());
            DataInputStream in = new DataInputStream(socket.getInputStream());
            MetadataRequestData all = new MetadataRequestData().setTopics(null).setAllowAutoTopicCreation(false);
            MetadataRequestData one = new MetadataRequestData().setAllowAutoTopicCreation(false).setTopics(
                    List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic(0))));
            int[] bytes = new int[1];
            long[] allNs = time(out, in, all, count, bytes);
            int allBytes = bytes[0];
            long[] oneNs = time(out, in, one, count, bytes);
            System.out.printf("%.3f %.3f %.3f %.3f %d%n", pct(allNs, 50), pct(allNs, 99), pct(oneNs, 50),
                    pct(oneNs, 99), allBytes);
        }
    }

    private static long[] time(DataOutputStream out, DataInputStream in, MetadataRequestData data, int count,
                               int[] bytes) throws Exception {
        long[] ns = new long[count];
        for (int i = 0; i < count; i++) {
            RequestHeader header = new RequestHeader(ApiKeys.METADATA, METADATA_VERSION, "scale-probe", i);
            ByteBuffer request = new MetadataRequest(data, METADATA_VERSION).serializeWithHeader(header);
            long start = System.nanoTime();
            out.writeInt(request.remaining());
            out.write(request.array(), request.arrayOffset() + request.position(), request.remaining());
            out.flush();
            int size = in.readInt();
            byte[] response = new byte[size];
            in.readFully(response);
            ns[i] = System.nanoTime() - start;
            if (ByteBuffer.wrap(response).getInt() != i) throw new IllegalStateException("correlation id mismatch");
            bytes[0] = size;
        }
        return ns;
    }

    private static double pct(long[] ns, int p) {
        long[] sorted = ns.clone();
        Arrays.sort(sorted);
        int idx = Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1);
        return sorted[Math.max(0, idx)] / 1e6;
    }

    private static void produce(String bootstrap, int topics, int partitions, int records) throws Exception {
        byte[] value = new byte[1024];
        long[] latency = new long[records];
        AtomicReference<Exception> failure = new AtomicReference<>();
        long start;
        long end;
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrap, 5)) {
            // Metadata for every topic first, so the timing covers produce only.
            for (int t = 0; t < topics; t++) producer.partitionsFor(topic(t));
            start = System.nanoTime();
            int total = topics * partitions;
            for (int i = 0; i < records; i++) {
                int slot = i % total;
                final int n = i;
                long sentAt = System.nanoTime();
                producer.send(new ProducerRecord<>(topic(slot / partitions), slot % partitions, null, value),
                        (metadata, e) -> {
                            latency[n] = System.nanoTime() - sentAt;
                            if (e != null) failure.compareAndSet(null, e);
                        });
            }
            producer.flush();
            end = System.nanoTime();
        }
        if (failure.get() != null) throw failure.get();
        System.out.printf("%.0f %.1f %.1f%n", records / ((end - start) / 1e9), pct(latency, 50), pct(latency, 99));
    }

    private static void check(long start, String what) {
        if (System.nanoTime() - start > TimeUnit.MILLISECONDS.toNanos(WAIT_MS)) {
            throw new IllegalStateException("no " + what + " after " + WAIT_MS + " ms");
        }
    }
}
