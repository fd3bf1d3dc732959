package io.tandem.bench.kafkawire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.compress.CompressionType;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.kafka.wire.record.RecordIterator;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MemoryRecordsBuilder;
import org.apache.kafka.common.record.TimestampType;

/**
 * Native-memory probe for the codec paths alone, without a server or clients: {@code --threads} threads (the broker's
 * request handlers: {@code num.io.threads} is 8) read the records of batches compressed by the Apache Java producer's
 * own code (kafka-clients' MemoryRecordsBuilder), or compress batches with Tandem's builder ({@code --mode encode}),
 * as fast as they can for {@code --seconds}, and the process prints its anonymous RSS (from /proc/self/status) and the
 * batches done every {@code --sample-seconds}. Each batch holds {@code --records} records of ~300 bytes like the codec
 * soak's (bench/kafka/codec_soak.py). Run it once per codec and compare: a leak per batch shows as a steady rise with
 * the batch count; glibc arena growth as a step that levels off. Figures: docs/BENCHMARKS.md. Nothing is asserted.
 *
 * <p>Usage (test class path of kafka-wire): {@code java -cp ... io.tandem.bench.kafkawire.CodecMemoryProbe --codec zstd
 * [--mode decode|encode] [--threads 8] [--records 1] [--seconds 120] [--sample-seconds 10]}
 */
public final class CodecMemoryProbe {
    private CodecMemoryProbe() {
    }

    public static void main(String[] args) throws Exception {
        String codec = "zstd";
        String mode = "decode";
        int threads = 8;
        int records = 1;
        int seconds = 120;
        int sampleSeconds = 10;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--codec": codec = value; break;
                case "--mode": mode = value; break;
                case "--threads": threads = Integer.parseInt(value); break;
                case "--records": records = Integer.parseInt(value); break;
                case "--seconds": seconds = Integer.parseInt(value); break;
                case "--sample-seconds": sampleSeconds = Integer.parseInt(value); break;
                default: throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        // "all": each thread takes the codecs in turn, as a broker's handler threads do with mixed producers.
        List<String> codecs = codec.equals("all") ? List.of("none", "gzip", "snappy", "lz4", "zstd") : List.of(codec);
        List<byte[]> batches = new ArrayList<>();
        List<CompressionType> types = new ArrayList<>();
        for (int b = 0; b < 64; b++) {
            for (String c : codecs) {
                batches.add(javaProducerBatches(c, records, b, 1).get(0));
                types.add(CompressionType.forConfigNameOrNull(c));
            }
        }
        AtomicLong done = new AtomicLong();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        boolean encode = mode.equals("encode");
        int recordCount = records;
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int seed = t;
            Thread worker = new Thread(() -> {
                int n = seed;
                while (System.nanoTime() < deadline) {
                    int index = n++ % batches.size();
                    byte[] bytes = batches.get(index);
                    if (encode) {
                        encodeOne(types.get(index), recordCount, n);
                    } else {
                        decodeOne(bytes);
                    }
                    done.incrementAndGet();
                }
            }, "probe-" + t);
            worker.start();
            workers.add(worker);
        }
        long start = System.nanoTime();
        System.out.printf("codec %s, mode %s, threads %d, records per batch %d, batch %d bytes, MALLOC_ARENA_MAX=%s%n",
                codec, mode, threads, records, batches.get(0).length, System.getenv("MALLOC_ARENA_MAX"));
        System.out.println("seconds batches anon_rss_mib heap_committed_mib nmt_committed_mib untracked_mib");
        while (System.nanoTime() < deadline) {
            Thread.sleep(sampleSeconds * 1000L);
            double anon = anonRssMib();
            double nmt = nmtCommittedMib();
            System.out.printf("%d %d %.1f %.1f %.1f %.1f%n", (System.nanoTime() - start) / 1_000_000_000L, done.get(),
                    anon, Runtime.getRuntime().totalMemory() / 1048576.0, nmt, nmt < 0 ? -1 : anon - nmt);
        }
        for (Thread worker : workers) {
            worker.join();
        }
        System.gc();
        Thread.sleep(2000);
        System.out.printf("after gc %.1f%n", anonRssMib());
    }

    /** Batches as the Apache Java producer builds them (its codecs, its default levels), one partition's sequence. */
    private static List<byte[]> javaProducerBatches(String codec, int records, long firstOffset, int count) {
        Compression compression = Compression.of(org.apache.kafka.common.record.internal.CompressionType.forName(codec))
                .build();
        List<byte[]> out = new ArrayList<>();
        long offset = firstOffset * records;
        for (int b = 0; b < count; b++) {
            MemoryRecordsBuilder builder = MemoryRecords.builder(ByteBuffer.allocate(64 * 1024), compression,
                    TimestampType.CREATE_TIME, offset);
            for (int r = 0; r < records; r++) {
                builder.append(System.currentTimeMillis(), key(offset), value(offset));
                offset++;
            }
            ByteBuffer built = builder.build().buffer();
            byte[] bytes = new byte[built.remaining()];
            built.get(bytes);
            out.add(bytes);
        }
        return out;
    }

    private static void decodeOne(byte[] bytes) {
        ByteBuf buf = Unpooled.wrappedBuffer(bytes);
        RecordBatch batch = RecordBatch.wrap(buf);
        try (RecordIterator it = batch.records(ByteBufAllocator.DEFAULT)) {
            while (it.hasNext()) {
                it.next();
            }
        }
    }

    private static void encodeOne(CompressionType type, int records, long seq) {
        ByteBuf out = ByteBufAllocator.DEFAULT.heapBuffer(4096);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(out).compression(type)) {
            for (int r = 0; r < records; r++) {
                builder.append(System.currentTimeMillis(), key(seq + r), value(seq + r));
            }
            builder.build();
        } finally {
            out.release();
        }
    }

    private static byte[] key(long seq) {
        return ("key-" + (seq % 12)).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(long seq) {
        StringBuilder s = new StringBuilder("seq=").append(seq).append(' ');
        while (s.length() < 300) {
            s.append(Long.toHexString(seq * 0x9E3779B97F4A7C15L));
        }
        return s.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Native Memory Tracking's total committed memory (the JVM's own accounting: heap, metaspace, code, threads, direct
     * buffers), or -1 without -XX:NativeMemoryTracking. Anonymous RSS above it is memory the JVM does not track: C
     * libraries' malloc (the codecs' JNI code) and glibc's arenas.
     */
    private static double nmtCommittedMib() {
        try {
            Object out = java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "vmNativeMemory",
                    new Object[] {new String[] {"summary"}}, new String[] {String[].class.getName()});
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB")
                    .matcher(out.toString());
            return m.find() ? Long.parseLong(m.group(2)) / 1024.0 : -1;
        } catch (javax.management.JMException e) {
            return -1;
        }
    }

    private static double anonRssMib() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("RssAnon:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return -1;
    }
}
