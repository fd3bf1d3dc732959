package io.tandem.server;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A consumer catching up on segments that are not in the page cache: their pages are read from the disk on a request
 * handler thread (PageCacheWarmer), never by an event loop's sendfile, which would stall every connection on that
 * loop while the disk seeks. The kernel's per-thread I/O accounting (/proc/self/task/N/io, read_bytes: bytes this
 * thread made the kernel read from storage) tells which thread read them.
 */
class ColdSegmentFetchTest {
    /** Netty's event loop threads ("multiThreadIoEventLoopGroup-N-M") as the kernel names them (15 characters). */
    private static final String EVENT_LOOP_COMM = "multiThreadIoEv";
    private static final int VALUE_BYTES = 1000;

    @TempDir
    Path dir;

    @Test
    void shouldReadColdSegmentsOnAHandlerThreadAndLeaveHotTailReadsAlone() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/thread-self/io")),
                "needs the kernel's per-thread I/O accounting (/proc/thread-self/io), Linux only");
        int records = 4_500; // about 4.5 MB: four sealed 1 MiB segments and an active one
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("cold", 1, (short) 1)
                        .configs(Map.of("segment.bytes", Integer.toString(1 << 20))))).all().get(30, TimeUnit.SECONDS);
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            pp.put(ProducerConfig.ACKS_CONFIG, "all");
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(),
                    new ByteArraySerializer())) {
                for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>("cold", 0, null, value(i)));
                producer.flush();

                List<Path> segments;
                try (Stream<Path> files = Files.list(tandem.kafkaLogDir().resolve("cold-0"))) {
                    segments = files.filter(f -> f.getFileName().toString().endsWith(".log")).sorted().toList();
                }
                assertTrue(segments.size() >= 4, "expected several segments, found " + segments);
                List<Path> sealed = segments.subList(0, segments.size() - 1);
                for (Path segment : sealed) evict(segment);
                for (Path segment : sealed) {
                    assumeTrue(!resident(segment), "dd iflag=nocache did not drop " + segment + " from the page "
                            + "cache on this machine: cannot make a cold segment");
                }

                long dropsBefore = systemCacheDrops();
                PageCacheWarmer warmer = tandem.kafkaBroker().pageCache();
                assertTrue(warmer.enabled(), "sun.misc.Unsafe.invokeCleaner is there on JDK 17");
                PageCacheWarmer.Stats before = warmer.stats();
                long eventLoopReadsBefore = eventLoopReadBytes();

                Properties cp = new Properties();
                cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
                try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(),
                        new ByteArrayDeserializer())) {
                    TopicPartition tp = new TopicPartition("cold", 0);
                    consumer.assign(List.of(tp));
                    consumer.seek(tp, 0);
                    int next = consumeUpTo(consumer, 0, records);
                    assertEquals(records, next, "every record read back");

                    PageCacheWarmer.Stats cold = warmer.stats();
                    long eventLoopReads = eventLoopReadBytes() - eventLoopReadsBefore;
                    assertEquals(0, eventLoopReads, "bytes the event loops read from the disk: none, they only send"
                            + " resident pages (" + cold + ")");
                    assertTrue(cold.warmed() > before.warmed(), "cold slices were warmed: " + cold);
                    assertTrue(cold.warmedBytes() - before.warmedBytes() >= 1 << 20, "at least a segment's worth: " + cold);
                    assertTrue(cold.lastWarmedOn().startsWith("kafka-request-handler-"),
                            "warmed on a request handler thread, not " + cold.lastWarmedOn());
                    for (Path segment : sealed) {
                        assertTrue(resident(segment), () -> segment + " is in the page cache now; not resident: "
                                + missingPages(segment) + "; " + cacheDrops(dropsBefore) + " (" + cold + ")");
                    }

                    // A caught-up consumer's fetch of what was just appended is not checked at all.
                    producer.send(new ProducerRecord<>("cold", 0, null, value(records))).get(30, TimeUnit.SECONDS);
                    assertEquals(records + 1, consumeUpTo(consumer, records, records + 1));
                    PageCacheWarmer.Stats tail = warmer.stats();
                    assertTrue(tail.tailReads() > cold.tailReads(), "the tail read was seen: " + tail);
                    assertEquals(cold.checked(), tail.checked(), "a tail read takes no residency check: " + tail);
                    assertEquals(cold.warmed(), tail.warmed());
                }
            }
        }
    }

    /** Polls until {@code end}, checking each record's offset and bytes; returns the next offset. */
    private static int consumeUpTo(KafkaConsumer<byte[], byte[]> consumer, int next, int end) {
        long deadline = System.currentTimeMillis() + 60_000;
        while (next < end && System.currentTimeMillis() < deadline) {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                assertEquals(next, r.offset());
                assertArrayEquals(value(next), r.value(), "value of offset " + next);
                next++;
            }
        }
        return next;
    }

    /** Incompressible, and different for every index. */
    private static byte[] value(int index) {
        byte[] value = new byte[VALUE_BYTES];
        new Random(index).nextBytes(value);
        return value;
    }

    /** Writes the file's dirty pages out (only clean pages can be dropped), then asks the kernel to drop them all. */
    static void evict(Path file) throws IOException, InterruptedException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            channel.force(true);
        }
        Process dd = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0").redirectErrorStream(true).start();
        String output = new String(dd.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assumeTrue(dd.waitFor() == 0, "GNU dd with iflag=nocache is needed to evict a file's pages: " + output);
    }

    /** Whether every page of the file is in the page cache (mincore(2), through a mapping that is never touched). */
    static boolean resident(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, channel.size());
            return mapped.isLoaded();
        }
    }

    /**
     * The byte ranges of the file, in 4 KiB steps, whose page is not in the page cache, and the file's size: which
     * part a failed residency check missed (a whole slice, one page at an edge, the tail). Asked of slices of one
     * mapping that is never touched, each its own mincore(2).
     */
    static String missingPages(Path file) {
        StringBuilder missing = new StringBuilder();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, 0, size);
            int step = 4096;
            long runStart = -1;
            for (long at = 0; at <= size; at += step) {
                boolean loaded = at == size || mapped.slice((int) at, (int) Math.min(step, size - at)).isLoaded();
                if (!loaded && runStart < 0) runStart = at;
                if (loaded && runStart >= 0) {
                    missing.append(missing.isEmpty() ? "" : ", ").append('[').append(runStart).append(", ")
                            .append(Math.min(at, size)).append(')');
                    runStart = -1;
                }
            }
            return "bytes " + (missing.isEmpty() ? "none" : missing) + " of " + size;
        } catch (IOException e) {
            return "unknown (" + e + ")";
        }
    }

    /**
     * How often anything on the machine dropped the whole page cache (echo 1 or 3 > /proc/sys/vm/drop_caches) since
     * boot, from /proc/vmstat; -1 where the kernel does not count it. Such a drop takes every file's pages, so it
     * tells a residency failure caused outside the test from one of the warmer.
     */
    static long systemCacheDrops() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/vmstat"))) {
                if (line.startsWith("drop_pagecache ")) return Long.parseLong(line.substring(15).trim());
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or an older kernel (the counter is there since 4.x): unknown.
        }
        return -1;
    }

    private static String cacheDrops(long before) {
        long after = systemCacheDrops();
        return before < 0 || after < 0 ? "whole page cache drops unknown"
                : "whole page cache drops (drop_caches) since the eviction: " + (after - before);
    }

    /** Bytes all of this process's Netty event loop threads have made the kernel read from storage so far. */
    private static long eventLoopReadBytes() throws IOException {
        long total = 0;
        int loops = 0;
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String comm;
                List<String> io;
                try {
                    comm = Files.readString(task.resolve("comm")).trim();
                    if (!comm.startsWith(EVENT_LOOP_COMM)) continue;
                    io = Files.readAllLines(task.resolve("io"));
                } catch (IOException e) {
                    continue; // the thread ended
                }
                loops++;
                for (String line : io) {
                    if (line.startsWith("read_bytes:")) total += Long.parseLong(line.substring(11).trim());
                }
            }
        }
        assertTrue(loops > 0, "no event loop thread named " + EVENT_LOOP_COMM + "* found");
        return total;
    }
}
