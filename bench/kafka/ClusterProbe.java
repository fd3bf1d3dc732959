import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The cluster-side steps of run-kafka-cluster.sh, run with the Kafka client jars of the download (one file, started by
 * the java source launcher), the same for both clusters:
 * <pre>
 *   brokers  BOOTSTRAP N             waits until N brokers are registered; prints the milliseconds it took
 *   in-sync  BOOTSTRAP TOPIC         waits until every replica of every partition is in the ISR
 *   failover BOOTSTRAP TOPIC ID=PID  produces 1 KB records (acks=all, idempotent) to partition 0, SIGKILLs its leader
 *                                    after 3 s, and prints the time from the kill to the first acknowledgement of a
 *                                    record sent after it, then the killed broker's id (the script restarts it)
 * </pre>
 */
public class ClusterProbe {
    private static final long WAIT_MS = 180_000;

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "brokers" -> awaitBrokers(args[1], Integer.parseInt(args[2]));
            case "in-sync" -> awaitInSync(args[1], args[2]);
            case "failover" -> failover(args[1], args[2], List.of(args).subList(3, args.length));
            default -> throw new IllegalArgumentException("unknown step " + args[0]);
        }
    }

    private static Admin admin(String bootstrap) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000"));
    }

    private static void awaitBrokers(String bootstrap, int count) throws Exception {
        long start = System.nanoTime();
        try (Admin admin = admin(bootstrap)) {
            while (true) {
                try {
                    if (admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size() >= count) break;
                } catch (Exception e) {
                    // not up yet
                }
                check(start, count + " brokers");
                Thread.sleep(100);
            }
        }
        System.out.println(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    }

    private static void awaitInSync(String bootstrap, String topic) throws Exception {
        long start = System.nanoTime();
        try (Admin admin = admin(bootstrap)) {
            while (true) {
                try {
                    TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                            .get(topic);
                    if (d.partitions().stream().allMatch(p -> p.leader() != null
                            && p.isr().size() == p.replicas().size())) break;
                } catch (Exception e) {
                    // a broker is still starting
                }
                check(start, "every replica of " + topic + " in sync");
                Thread.sleep(100);
            }
        }
    }

    private static void failover(String bootstrap, String topic, List<String> pids) throws Exception {
        Map<Integer, Long> pidOf = new HashMap<>();
        for (String pair : pids) {
            String[] idPid = pair.split("=");
            pidOf.put(Integer.parseInt(idPid[0]), Long.parseLong(idPid[1]));
        }
        int leader;
        try (Admin admin = admin(bootstrap)) {
            TopicPartitionInfo p0 = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(topic).partitions().get(0);
            leader = p0.leader().id();
        }
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        props.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "170000");
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "30000");
        byte[] value = new byte[1024];
        AtomicLong killedAt = new AtomicLong(Long.MAX_VALUE);
        AtomicLong firstAckAfterKill = new AtomicLong();
        List<String> failures = new ArrayList<>();
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(props, new ByteArraySerializer(),
                new ByteArraySerializer())) {
            Semaphore inFlight = new Semaphore(5);
            long start = System.nanoTime();
            while (firstAckAfterKill.get() == 0) {
                check(start, "an acknowledgement after the kill of broker " + leader);
                if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) continue;
                long sentAt = System.nanoTime();
                producer.send(new ProducerRecord<>(topic, 0, null, value), (metadata, e) -> {
                    inFlight.release();
                    if (e != null) {
                        synchronized (failures) {
                            failures.add(e.toString());
                        }
                    } else if (sentAt >= killedAt.get()) {
                        firstAckAfterKill.compareAndSet(0, System.nanoTime());
                    }
                });
                if (killedAt.get() == Long.MAX_VALUE && System.nanoTime() - start > TimeUnit.SECONDS.toNanos(3)) {
                    killedAt.set(System.nanoTime());
                    ProcessHandle.of(pidOf.get(leader)).orElseThrow().destroyForcibly(); // SIGKILL
                }
            }
        }
        System.out.println("failover_ms=" + TimeUnit.NANOSECONDS.toMillis(firstAckAfterKill.get() - killedAt.get())
                + " failed_sends=" + failures.size());
        System.out.println("killed=" + leader);
    }

    private static void check(long startNanos, String what) {
        if (System.nanoTime() - startNanos > TimeUnit.MILLISECONDS.toNanos(WAIT_MS)) {
            throw new IllegalStateException("no " + what + " within " + WAIT_MS + " ms");
        }
    }
}
