package io.tandem.bench.kafkawire;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.ProduceRequest;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.ObjectSerializationCache;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Decode + encode of a Produce request carrying one 64 KB batch and of a Fetch response (4 topics x 4 partitions,
 * 4 KB of records each), Tandem's generated codec against the official kafka-clients message classes.
 *
 * <p>Both sides decode from the same bytes (a buffer whose indices are reset, as a frame decoder would hand it over) and
 * encode into a reused output buffer, so the figures compare the codecs, not buffer allocation or input copies. Records stay slices on both sides (kafka-clients wraps them as
 * MemoryRecords over a ByteBuffer slice). Run: see docs/BENCHMARKS.md, section kafka-wire.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class KafkaWireCodecBenchmark {
    private static final int BATCH_BYTES = 64 * 1024;
    private static final int FETCH_TOPICS = 4;
    private static final int FETCH_PARTITIONS = 4;
    private static final int FETCH_RECORDS_BYTES = 4 * 1024;

    @Param({"9"})
    public short produceVersion;

    @Param({"12"})
    public short fetchVersion;

    private byte[] produceBytes;
    private byte[] fetchBytes;
    private ByteBuf ourProduceIn;
    private ByteBuf ourFetchIn;
    private ByteBuffer theirProduceIn;
    private ByteBuffer theirFetchIn;
    private ByteBuf ourOut;
    private ByteBuffer theirOut;

    @Setup
    public void setUp() {
        Random random = new Random(42);
        byte[] batch = new byte[BATCH_BYTES];
        random.nextBytes(batch);
        ProduceRequest produce = new ProduceRequest().setAcks((short) -1).setTimeoutMs(30_000)
                .setTransactionalId(null);
        ProduceRequest.TopicProduceData topic = new ProduceRequest.TopicProduceData().setName("benchmark-topic");
        topic.partitionData.add(new ProduceRequest.PartitionProduceData().setIndex(0)
                .setRecords(Unpooled.wrappedBuffer(batch)));
        produce.topicData.add(topic);
        produceBytes = toBytes(produce, produceVersion);

        FetchResponse fetch = new FetchResponse().setThrottleTimeMs(0).setSessionId(17);
        for (int t = 0; t < FETCH_TOPICS; t++) {
            FetchResponse.FetchableTopicResponse topicResponse = new FetchResponse.FetchableTopicResponse()
                    .setTopic("benchmark-topic-" + t);
            for (int p = 0; p < FETCH_PARTITIONS; p++) {
                byte[] records = new byte[FETCH_RECORDS_BYTES];
                random.nextBytes(records);
                topicResponse.partitions.add(new FetchResponse.PartitionData().setPartitionIndex(p)
                        .setHighWatermark(1_000_000L).setLastStableOffset(1_000_000L).setLogStartOffset(0L)
                        .setRecords(Unpooled.wrappedBuffer(records)));
            }
            fetch.responses.add(topicResponse);
        }
        fetchBytes = toBytes(fetch, fetchVersion);
        // Unpooled.buffer, not wrappedBuffer: the allocator's (unsafe) heap buffers are what a Netty server reads into.
        ourProduceIn = Unpooled.buffer(produceBytes.length).writeBytes(produceBytes);
        ourFetchIn = Unpooled.buffer(fetchBytes.length).writeBytes(fetchBytes);
        theirProduceIn = ByteBuffer.wrap(produceBytes.clone());
        theirFetchIn = ByteBuffer.wrap(fetchBytes.clone());
        ourOut = Unpooled.buffer(Math.max(produceBytes.length, fetchBytes.length));
        theirOut = ByteBuffer.allocate(Math.max(produceBytes.length, fetchBytes.length));
        checkSameBytes();
    }

    private static byte[] toBytes(io.tandem.kafka.wire.Message message, short version) {
        ByteBuf out = Unpooled.buffer(message.size(version));
        message.write(out, version);
        byte[] bytes = new byte[out.readableBytes()];
        out.readBytes(bytes);
        return bytes;
    }

    /** Both codecs must produce the same bytes, or the comparison means nothing. */
    private void checkSameBytes() {
        ourProduce();
        ByteBuf ours = ourOut.copy();
        theirProduce();
        if (!ours.equals(Unpooled.wrappedBuffer(theirOut.array(), 0, theirOut.position()))
                || !ours.equals(Unpooled.wrappedBuffer(produceBytes))) {
            throw new IllegalStateException("produce encodings differ");
        }
        ourFetch();
        ours = ourOut.copy();
        theirFetch();
        if (!ours.equals(Unpooled.wrappedBuffer(theirOut.array(), 0, theirOut.position()))
                || !ours.equals(Unpooled.wrappedBuffer(fetchBytes))) {
            throw new IllegalStateException("fetch encodings differ");
        }
    }

    private ByteBuf input(byte[] bytes) {
        // The frame as the frame decoder hands it over; only the indices are reset, so no copy is measured.
        ByteBuf in = bytes == produceBytes ? ourProduceIn : ourFetchIn;
        in.readerIndex(0);
        return in;
    }

    @Benchmark
    public ByteBuf ourProduce() {
        ProduceRequest request = ProduceRequest.read(input(produceBytes), produceVersion);
        ourOut.clear();
        ourOut.ensureWritable(request.size(produceVersion));
        request.write(ourOut, produceVersion);
        return ourOut;
    }

    @Benchmark
    public ByteBuffer theirProduce() {
        ByteBuffer in = theirInput(produceBytes);
        ProduceRequestData request = new ProduceRequestData(new ByteBufferAccessor(in), produceVersion);
        return theirWrite(request, produceVersion);
    }

    @Benchmark
    public ByteBuf ourFetch() {
        FetchResponse response = FetchResponse.read(input(fetchBytes), fetchVersion);
        ourOut.clear();
        ourOut.ensureWritable(response.size(fetchVersion));
        response.write(ourOut, fetchVersion);
        return ourOut;
    }

    @Benchmark
    public ByteBuffer theirFetch() {
        ByteBuffer in = theirInput(fetchBytes);
        FetchResponseData response = new FetchResponseData(new ByteBufferAccessor(in), fetchVersion);
        return theirWrite(response, fetchVersion);
    }

    private ByteBuffer theirInput(byte[] bytes) {
        ByteBuffer in = bytes == produceBytes ? theirProduceIn : theirFetchIn;
        in.clear();
        return in;
    }

    private ByteBuffer theirWrite(org.apache.kafka.common.protocol.Message message, short version) {
        ObjectSerializationCache cache = new ObjectSerializationCache();
        int size = message.size(cache, version);
        theirOut.clear();
        if (theirOut.capacity() < size) {
            throw new IllegalStateException("output buffer too small");
        }
        message.write(new ByteBufferAccessor(theirOut), cache, version);
        return theirOut;
    }
}
