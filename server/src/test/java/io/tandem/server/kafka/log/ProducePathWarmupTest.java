package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A starting broker runs its produce path on a scratch log, on a thread of its own, in the buffer type clients'
 * batches come in, and leaves nothing behind: no topic, no directory; closing the broker stops it.
 */
class ProducePathWarmupTest {
    private static final String THREAD = ProducePathWarmup.THREAD_NAME;
    @TempDir
    Path dir;
    private Tandem tandem;
    private final AtomicInteger warmupAppends = new AtomicInteger();
    private final Set<String> appendThreads = ConcurrentHashMap.newKeySet();
    private final Set<String> warmupTypes = ConcurrentHashMap.newKeySet();
    private final Set<String> otherTypes = ConcurrentHashMap.newKeySet();

    private void start(int batches) throws IOException {
        Partition.watchAppends((thread, records) -> {
            appendThreads.add(thread.getName());
            ByteBuf inside = records;
            while (inside.getClass().getSimpleName().endsWith("LeakAwareByteBuf")) inside = inside.unwrap();
            String type = inside.getClass().getName() + (inside.isDirect() ? " direct" : " heap");
            if (thread.getName().equals(THREAD)) {
                warmupAppends.incrementAndGet();
                warmupTypes.add(type);
            } else {
                otherTypes.add(type);
            }
        });
        System.setProperty(ProducePathWarmup.PROPERTY, Integer.toString(batches));
        try {
            tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
        } finally {
            System.clearProperty(ProducePathWarmup.PROPERTY);
        }
    }

    @AfterEach
    void stop() {
        Partition.watchAppends(null);
        if (tandem != null) tandem.close();
    }

    private static Thread warmupThread() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(THREAD)).findFirst()
                .orElse(null);
    }

    private static Set<Path> scratchDirs() throws IOException {
        try (Stream<Path> list = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return list.filter(p -> p.getFileName().toString().startsWith(ProducePathWarmup.SCRATCH_PREFIX
                    + ProcessHandle.current().pid() + "-"))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void shouldAppendEveryBatchOnItsOwnThreadInTheClientsBufferTypeAndLeaveNothingBehind() throws Exception {
        Set<Path> before = scratchDirs();
        start(300);
        Thread warmup = warmupThread();
        if (warmup != null) warmup.join(60_000);
        assertEquals(300, warmupAppends.get(), "appends on " + appendThreads);
        assertEquals(Set.of(THREAD), appendThreads, "no other thread appended yet");
        assertNull(warmupThread(), "the warm-up thread ended");
        assertEquals(before, scratchDirs(), "the scratch log is deleted");

        String bootstrap = tandem.bootstrapServers();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>("after-warmup", "k", "v")).get();
        }
        // One buffer type for the produce path's code, or C2 throws the warmed code away at the first client.
        assertEquals(otherTypes, warmupTypes);
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
            assertEquals(Set.of("after-warmup"), admin.listTopics(new ListTopicsOptions().listInternal(true))
                    .names().get(), "the warm-up's log is no topic");
        }
    }

    @Test
    void shouldStopWhenTheBrokerCloses() throws Exception {
        Set<Path> before = scratchDirs();
        start(Integer.MAX_VALUE);
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (warmupAppends.get() == 0 && System.nanoTime() < deadline) Thread.sleep(5);
        assertTrue(warmupAppends.get() > 0, "the warm-up started");
        tandem.close();
        tandem = null;
        assertNull(warmupThread(), "closing the broker stopped the warm-up");
        assertEquals(before, scratchDirs(), "the scratch log is deleted");
    }
}
