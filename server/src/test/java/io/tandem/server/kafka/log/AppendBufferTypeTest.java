package io.tandem.server.kafka.log;

import io.netty.buffer.ByteBuf;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A client's batches and the broker's own (a consumer group's records and offsets) reach the produce path in one
 * buffer type: direct buffers of the allocator the event loops read frames with. A second type there makes the JIT
 * throw away the compiled produce path the first time a group commits (docs/profiles/kafka-consume.md).
 */
class AppendBufferTypeTest {
    @TempDir
    Path dir;
    private Tandem tandem;
    /** "class direct" or "class heap" of every append's records: the buffer types the produce path's code meets. */
    private final Set<String> bufferTypes = ConcurrentHashMap.newKeySet();

    @BeforeEach
    void start() throws IOException {
        Partition.watchAppends((thread, records) -> {
            // Netty's leak detection wraps the buffers it tracks (some at the tests' level, every one at paranoid); the
            // produce path's code meets what is inside.
            ByteBuf inside = records;
            while (inside.getClass().getSimpleName().endsWith("LeakAwareByteBuf")) inside = inside.unwrap();
            bufferTypes.add(inside.getClass().getName() + (inside.isDirect() ? " direct" : " heap"));
        });
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)));
    }

    @AfterEach
    void stop() {
        Partition.watchAppends(null);
        tandem.close();
    }

    @Test
    void shouldHandTheProducePathOneBufferTypeForClientAndCoordinatorBatches() throws Exception {
        String bootstrap = tandem.bootstrapServers();
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap), new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) producer.send(new ProducerRecord<>("types", "k" + i, "v" + i)).get();
        }
        Set<String> clientTypes = Set.copyOf(bufferTypes);
        assertEquals(1, clientTypes.size(), "a client's batches: " + clientTypes);
        assertTrue(clientTypes.iterator().next().endsWith(" direct"), "a client's batches: " + clientTypes);

        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.GROUP_ID_CONFIG, "types",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest", ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"),
                new StringDeserializer(), new StringDeserializer())) {
            consumer.subscribe(List.of("types"));
            int read = 0;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (read < 10 && System.nanoTime() < deadline) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
                read += records.count();
            }
            assertEquals(10, read);
            // The group's own records (SyncGroup's assignment) and this commit are the coordinator's appends.
            consumer.commitSync();
        }
        assertEquals(clientTypes, bufferTypes, "the coordinator's batches must come in the clients' buffer type");
    }
}
