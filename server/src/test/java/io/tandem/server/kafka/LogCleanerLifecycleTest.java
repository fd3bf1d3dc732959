package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.TandemConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log cleaner's threads end with the broker: a close waits for a pass in progress on a cleaner thread that a
 * dynamic log.cleaner.threads change replaced, as for the current ones, so no pass touches a log's files after the
 * logs are closed; and a pass that runs once the close has begun stops at its first batch instead of cleaning.
 */
class LogCleanerLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void aCloseShouldWaitForAPassOnAReplacedCleanerThreadAndLeaveTheFilesAlone() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("log.cleaner.backoff.ms", "20");
        CountDownLatch compacting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger passesAfterClose = new AtomicInteger();
        CompletableFuture<Void> closed = new CompletableFuture<>();
        Set<Thread> earlier = cleanerThreads();
        KafkaBroker broker = KafkaBroker.start(config, null);
        try {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + broker.port()))) {
                admin.createTopics(List.of(new NewTopic("compacted", 1, (short) 1)
                        .configs(Map.of("cleanup.policy", "compact")))).all().get(30, TimeUnit.SECONDS);
            }
            broker.logs().beforeEachCompaction(tp -> {
                if (closed.isDone()) passesAfterClose.incrementAndGet();
                if (compacting.getCount() == 0) return;
                compacting.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(compacting.await(30, TimeUnit.SECONDS), "a cleaner pass reached the compacted log");
            // The thread in its pass is replaced by two new ones, as a dynamic log.cleaner.threads change does.
            broker.logs().reconfigureCleaner(true, 2, 20);
            assertEquals(2, broker.logs().cleanerThreads());
        } catch (Throwable e) {
            release.countDown();
            broker.close();
            throw e;
        }
        Thread closer = new Thread(() -> {
            try {
                broker.close();
                closed.complete(null);
            } catch (Throwable e) {
                closed.completeExceptionally(e);
            }
        }, "closer");
        closer.start();
        Thread.sleep(1_000);
        assertTrue(!closed.isDone(), "the close waits for the replaced thread's pass");
        release.countDown();
        closed.get(30, TimeUnit.SECONDS);
        Set<Thread> left = cleanerThreads();
        left.removeAll(earlier);
        assertEquals(Set.of(), left, "no cleaner thread of this broker is left");
        Map<String, Long> files = files();
        Thread.sleep(300);
        assertEquals(files, files(), "nothing touches the log directory after the close");
        assertEquals(0, passesAfterClose.get());
        assertTrue(files.keySet().stream().noneMatch(name -> name.endsWith(".cleaned")), files.toString());
        // Reopened cleanly: the shutdown was clean and the compacted log is there.
        try (KafkaBroker reopened = KafkaBroker.start(config, null)) {
            assertTrue(reopened.logs().partitions().keySet().stream().anyMatch(tp -> tp.topic().equals("compacted")));
        }
    }

    /**
     * A pass that starts while the broker is closing gives up at its first batch instead of cleaning the log: a close
     * no longer waits out a long pass (up to 10 s) that used to stop only between segments.
     */
    @Test
    void aPassRunningWhenTheCloseBeginsShouldStopWithoutCleaning() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("log.cleaner.backoff.ms", "20");
        CountDownLatch compacting = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        KafkaBroker broker = KafkaBroker.start(config, null);
        Path partitionDir;
        long logBytesBefore;
        try {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + broker.port()))) {
                admin.createTopics(List.of(new NewTopic("compacted", 1, (short) 1)
                        .configs(Map.of("cleanup.policy", "compact", "segment.bytes", "200"))))
                        .all().get(30, TimeUnit.SECONDS);
            }
            // The first pass waits here until the close has begun; by then the log holds 20 values of one key.
            broker.logs().beforeEachCompaction(tp -> {
                if (!tp.topic().equals("compacted") || compacting.getCount() == 0) return;
                compacting.countDown();
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertTrue(compacting.await(30, TimeUnit.SECONDS), "a cleaner pass reached the compacted log");
            try (RawKafkaConnection raw = new RawKafkaConnection(broker.port())) {
                for (int i = 0; i < 20; i++) {
                    io.netty.buffer.ByteBuf records = io.netty.buffer.Unpooled.buffer();
                    try (var builder = io.tandem.kafka.wire.record.RecordBatchBuilder.create(records)) {
                        builder.append(System.currentTimeMillis(), "key".getBytes(), ("value" + i).getBytes());
                        builder.build();
                    }
                    var produce = TestRequests.produce("compacted", records, (short) -1, 30_000);
                    var answer = raw.roundTrip(io.tandem.kafka.wire.ApiKey.PRODUCE, (short) 8, (short) 0, produce,
                            io.tandem.kafka.wire.message.ProduceResponse::read);
                    assertEquals(0, answer.responses.get(0).partitionResponses.get(0).errorCode);
                }
            }
            partitionDir = broker.logs().partitions().values().stream()
                    .filter(p -> p.topicPartition().topic().equals("compacted")).findFirst().orElseThrow()
                    .log().dir();
            logBytesBefore = logBytes(partitionDir);
            assertTrue(Files.list(partitionDir).filter(f -> f.toString().endsWith(".log")).count() > 2,
                    "several segments below the active one");
        } catch (Throwable e) {
            release.countDown();
            broker.close();
            throw e;
        }
        CompletableFuture<Void> closed = CompletableFuture.runAsync(() -> {
            try {
                broker.close();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(1_000); // the close has begun: it waits for the held pass
        release.countDown();
        closed.get(30, TimeUnit.SECONDS);
        // Had the pass run, 19 of the 20 values would be gone and the segments merged.
        assertEquals(logBytesBefore, logBytes(partitionDir), "the pass stopped before cleaning anything");
        assertTrue(Files.list(partitionDir).noneMatch(f -> f.toString().endsWith(".cleaned")));
    }

    private static long logBytes(Path partitionDir) throws IOException {
        long bytes = 0;
        try (Stream<Path> files = Files.list(partitionDir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".log")).toList()) bytes += Files.size(file);
        }
        return bytes;
    }

    private static Set<Thread> cleanerThreads() {
        Set<Thread> threads = new java.util.HashSet<>(Thread.getAllStackTraces().keySet());
        threads.removeIf(t -> !t.getName().startsWith("kafka-log-cleaner-thread") || !t.isAlive());
        return threads;
    }

    /** Every file under the test directory with its size and modification time. */
    private Map<String, Long> files() throws IOException {
        Map<String, Long> files = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                files.put(dir.relativize(file) + ":" + Files.size(file),
                        Files.getLastModifiedTime(file).toMillis());
            }
        }
        return files;
    }
}
