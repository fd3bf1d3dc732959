package io.tandem.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ChannelPromise;
import io.netty.channel.FileRegion;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.group.GroupMessages.GroupListing;
import io.tandem.server.kafka.handlers.FetchSessions;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.RequestObserver;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.network.ThrottleTimes;
import io.tandem.storage.log.LogSlice;
import io.tandem.storage.log.PageCacheWarmer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The broker's meters: request rate and latency per API key (a Prometheus histogram per key, from the request's
 * decoding to its answer), bytes in and out of the listener, the partitions this broker hosts and leads, those it
 * leads with fewer in-sync replicas than replicas, consumer-group lag for the groups it coordinates, and the
 * incremental fetch session cache as Kafka's FetchSessionCache meters it.
 */
final class KafkaMetrics implements RequestObserver {
    /** Lag rows reported at most: each is a labelled series, and a scrape must stay small. */
    static final int LAG_SERIES_MAX = 10_000;

    private final KafkaBroker broker;
    private final MeterRegistry registry;
    private final Map<ApiKey, Timer> timers = new EnumMap<>(ApiKey.class);
    /** Guarded by {@link #timers}. */
    private final Map<ApiKey, DistributionSummary> throttles = new EnumMap<>(ApiKey.class);
    private final ByteCounter bytes;
    private final MultiGauge lag;

    KafkaMetrics(KafkaBroker broker, MeterRegistry registry) {
        this.broker = broker;
        this.registry = registry;
        this.bytes = new ByteCounter(
                Counter.builder("tandem.kafka.network.bytes").tag("direction", "in")
                        .description("Bytes read from Kafka clients and brokers").baseUnit("bytes").register(registry),
                Counter.builder("tandem.kafka.network.bytes").tag("direction", "out")
                        .description("Bytes written to Kafka clients and brokers").baseUnit("bytes")
                        .register(registry));
        Gauge.builder("tandem.kafka.network.requestchannel.request.queue.size", broker, KafkaBroker::requestQueueSize)
                .description("Requests decoded and waiting for a request handler thread (Kafka's RequestChannel "
                        + "RequestQueueSize)").register(registry);
        Gauge.builder("tandem.kafka.partitions", () -> count(PartitionKind.HOSTED))
                .description("Partitions with a replica on this broker").register(registry);
        Gauge.builder("tandem.kafka.partitions.leader", () -> count(PartitionKind.LED))
                .description("Partitions this broker leads").register(registry);
        Gauge.builder("tandem.kafka.partitions.under.replicated", () -> count(PartitionKind.UNDER_REPLICATED))
                .description("Partitions this broker leads whose ISR is smaller than their replica list")
                .register(registry);
        Gauge.builder("tandem.kafka.controller.stuck.events", () -> {
                    KafkaController controller = broker.controller();
                    return controller == null ? 0 : controller.stuckEvents().size();
                })
                .description("Distinct failures this broker's controller keeps retrying (backing off up to 30 s); "
                        + "KafkaController.stuckEvents() and the log name them").register(registry);
        Gauge.builder("tandem.kafka.consumer.groups", () -> broker.groups().groupCount())
                .description("Consumer groups known to this broker's coordinator").register(registry);
        // Kafka's kafka.server:type=FetchSessionCache meters, named as a JMX exporter's default rule names them.
        FetchSessions sessions = broker.fetchSessions();
        Gauge.builder("tandem.kafka.server.fetchsessioncache.numincrementalfetchsessions", sessions,
                        FetchSessions::sessionCount)
                .description("Incremental fetch sessions cached (Kafka's NumIncrementalFetchSessions)")
                .register(registry);
        Gauge.builder("tandem.kafka.server.fetchsessioncache.numincrementalfetchpartitionscached", sessions,
                        FetchSessions::cachedPartitions)
                .description("Partitions of all incremental fetch sessions (Kafka's "
                        + "NumIncrementalFetchPartitionsCached)")
                .register(registry);
        FunctionCounter.builder("tandem.kafka.server.fetchsessioncache.incrementalfetchsessionevictions", sessions,
                        FetchSessions::evictions)
                .description("Fetch sessions evicted for a new one (Kafka's IncrementalFetchSessionEvictionsPerSec)")
                .register(registry);
        // How fetched file ranges left for the socket: tail reads sent as they are, older ranges checked for page
        // cache residency, and those faulted in on a handler thread first (PageCacheWarmer).
        PageCacheWarmer warmer = broker.pageCache();
        pageCacheSlices(registry, warmer, "tail", stats -> stats.tailReads());
        pageCacheSlices(registry, warmer, "checked", stats -> stats.checked());
        pageCacheSlices(registry, warmer, "warmed", stats -> stats.warmed());
        pageCacheSlices(registry, warmer, "failed", stats -> stats.failed());
        FunctionCounter.builder("tandem.kafka.fetch.page.cache.warmed", warmer, w -> w.stats().warmedBytes())
                .description("Bytes of fetched ranges faulted into the page cache on a handler thread")
                .baseUnit("bytes").register(registry);
        lag = MultiGauge.builder("tandem.kafka.consumer.group.lag")
                .description("High watermark minus the group's committed offset, for partitions this broker leads")
                .baseUnit("records").register(registry);
    }

    private static void pageCacheSlices(MeterRegistry registry, PageCacheWarmer warmer, String outcome,
                                        java.util.function.ToLongFunction<PageCacheWarmer.Stats> count) {
        FunctionCounter.builder("tandem.kafka.fetch.page.cache.slices", warmer,
                        w -> count.applyAsLong(w.stats()))
                .tag("outcome", outcome)
                .description("Fetched file ranges by what the page-cache check did with them")
                .register(registry);
    }

    private enum PartitionKind { HOSTED, LED, UNDER_REPLICATED }

    private double count(PartitionKind kind) {
        int count = 0;
        for (Partition partition : broker.logs().partitions().values()) {
            boolean counted = switch (kind) {
                case HOSTED -> true;
                case LED -> partition.isLeader();
                case UNDER_REPLICATED -> partition.isLeader()
                        && partition.inSyncReplicas().size() < partition.replicas().size();
            };
            if (counted) count++;
        }
        return count;
    }

    /** Before each scrape: the lag rows of every group's committed offsets on partitions led here. */
    void refresh() {
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        Map<TopicPartition, Partition> partitions = broker.logs().partitions();
        for (GroupListing group : broker.groups().listGroups()) {
            for (Map.Entry<TopicPartition, CommittedOffset> offset
                    : broker.groups().fetchOffsets(group.groupId(), null).entrySet()) {
                Partition partition = partitions.get(offset.getKey());
                if (partition == null || !partition.isLeader() || rows.size() >= LAG_SERIES_MAX) continue;
                long lagRecords = Math.max(0, partition.highWatermark() - offset.getValue().offset());
                rows.add(MultiGauge.Row.of(Tags.of("group", group.groupId(), "topic", offset.getKey().topic(),
                        "partition", Integer.toString(offset.getKey().partition())), lagRecords));
            }
        }
        lag.register(rows, true);
    }

    @Override
    public Responder observe(RequestContext request, Responder responder) {
        return new TimedResponder(timer(request.apiKey()), throttle(request.apiKey()), System.nanoTime(), responder);
    }

    @Override
    public void connectionOpened(ChannelPipeline pipeline) {
        // First in the pipeline: it sees the bytes as they come off and go onto the socket, framing included.
        pipeline.addFirst("metrics-bytes", bytes);
    }

    private Timer timer(ApiKey key) {
        synchronized (timers) {
            return timers.computeIfAbsent(key, k -> Timer.builder("tandem.kafka.request")
                    .description("Kafka requests from decoding to answer, per API")
                    .tag("api", k.apiName())
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry));
        }
    }

    /**
     * Kafka's {@code kafka.network:type=RequestMetrics,name=ThrottleTimeMs,request=<api>}: the throttle_time_ms of
     * every answer of the API as it went out (0 without a throttle, or for an API without the field).
     */
    private DistributionSummary throttle(ApiKey key) {
        synchronized (timers) {
            return throttles.computeIfAbsent(key, k -> DistributionSummary.builder("tandem.kafka.request.throttle.time")
                    .description("throttle_time_ms of the API's answers, as sent (Kafka's RequestMetrics "
                            + "ThrottleTimeMs)")
                    .baseUnit("milliseconds")
                    .tag("api", k.apiName())
                    .register(registry));
        }
    }

    /** Records the time when the answer is handed over (or the request fails), and the answer's throttle time. */
    private static final class TimedResponder implements Responder {
        private final Timer timer;
        private final DistributionSummary throttle;
        private final long startNanos;
        private final Responder delegate;

        TimedResponder(Timer timer, DistributionSummary throttle, long startNanos, Responder delegate) {
            this.timer = timer;
            this.throttle = throttle;
            this.startNanos = startNanos;
            this.delegate = delegate;
        }

        private void record() {
            timer.record(Duration.ofNanos(System.nanoTime() - startNanos));
        }

        @Override
        public void send(ApiMessage response) {
            record();
            delegate.send(response);
            // The network layer raised it for the request quota on the way out: read once it is sent.
            throttle.record(ThrottleTimes.of(response));
        }

        @Override
        public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
            record();
            delegate.sendWithFileRecords(response, slices);
            throttle.record(ThrottleTimes.of(response));
        }

        @Override
        public void noResponse() {
            record();
            delegate.noResponse();
            throttle.record(0);
        }

        @Override
        public void fail(Throwable cause) {
            record();
            delegate.fail(cause);
        }
    }

    /** Counts bytes read and written on every Kafka connection (shared: it holds no per-connection state). */
    @ChannelHandler.Sharable
    static final class ByteCounter extends ChannelDuplexHandler {
        private final Counter in;
        private final Counter out;

        ByteCounter(Counter in, Counter out) {
            this.in = in;
            this.out = out;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf buf) in.increment(buf.readableBytes());
            ctx.fireChannelRead(msg);
        }

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            long size = msg instanceof ByteBuf buf ? buf.readableBytes()
                    : msg instanceof ByteBufHolder holder ? holder.content().readableBytes()
                    : msg instanceof FileRegion region ? region.count() : 0;
            if (size > 0) out.increment(size);
            ctx.write(msg, promise);
        }
    }
}
