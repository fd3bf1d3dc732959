package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Where the server's time for the requests of one Kafka API goes, stage by stage: a diagnostic for benchmarks (issue
 * 15: what sets a produce's p99 at a fixed rate). Off unless the JVM runs with
 * {@code -Dtandem.kafka.requestStages=<API name>} (e.g. {@code Produce}); then every request of that API records how
 * long each stage took, and every {@link #REPORT_INTERVAL_S} seconds with new requests the log gets one line per
 * stage with the percentiles of all requests so far. Recording is lock-free (HdrHistogram recorders), so the
 * measurement does not itself serialise the request path.
 *
 * <p>{@code -Dtandem.kafka.requestTrace=N} logs the first N requests the server answers (any API), one line each with
 * its stages and when its frame was read (milliseconds since the server began handling its first request): the
 * timeline of a client's first seconds (its ApiVersions, Metadata, InitProducerId and first Produce requests), which
 * the percentiles above fold into the rest of the run.
 */
final class RequestStages {
    private static final System.Logger LOG = System.getLogger(RequestStages.class.getName());
    static final String PROPERTY = "tandem.kafka.requestStages";
    private static final long REPORT_INTERVAL_S = 5;
    /** Up to a minute, at three significant digits. */
    private static final long HIGHEST_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final RequestStages INSTANCE = create(System.getProperty(PROPERTY));
    static final String TRACE_PROPERTY = "tandem.kafka.requestTrace";
    private static final int TRACE_MAX = Integer.getInteger(TRACE_PROPERTY, 0);
    private static final AtomicInteger TRACED = new AtomicInteger();
    private static final long BASE_NANOS = System.nanoTime();

    /** The stages of one request, each from the end of the one before. */
    enum Stage {
        /** Frame read on the event loop until a request handler thread takes it (hand-off, queue, earlier requests). */
        WAIT,
        /** Header and body decoded, quotas and faults checked, until the API handler starts. */
        DECODE,
        /** The API handler, until its answer is encoded and handed to the event loop (acks=all waits included). */
        HANDLE,
        /** Handed to the event loop until the answer is on the socket. */
        WRITE,
        /** Frame read until the answer is on the socket. */
        TOTAL
    }

    private final ApiKey api;
    private final Map<Stage, Recorder> recorders = new EnumMap<>(Stage.class);
    private final Map<Stage, Histogram> totals = new EnumMap<>(Stage.class);

    private RequestStages(ApiKey api) {
        this.api = api;
        for (Stage stage : Stage.values()) {
            recorders.put(stage, new Recorder(HIGHEST_NANOS, 3));
            totals.put(stage, new Histogram(HIGHEST_NANOS, 3));
        }
        ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "kafka-request-stages");
            t.setDaemon(true);
            return t;
        });
        reporter.scheduleWithFixedDelay(this::report, REPORT_INTERVAL_S, REPORT_INTERVAL_S, TimeUnit.SECONDS);
    }

    private static RequestStages create(String apiName) {
        if (apiName == null || apiName.isEmpty()) return null;
        for (ApiKey key : ApiKey.values()) {
            if (key.apiName().equals(apiName)) return new RequestStages(key);
        }
        throw new IllegalArgumentException(PROPERTY + " names no Kafka API: " + apiName);
    }

    /** The recorder for requests of {@code key}, or null when their stages are not recorded (the default). */
    static RequestStages forApi(ApiKey key) {
        RequestStages stages = INSTANCE;
        return stages != null && stages.api == key ? stages : null;
    }

    /**
     * Whether this request is one of the first {@code -Dtandem.kafka.requestTrace} requests, to be logged on its own
     * with {@link #trace}. Any thread.
     */
    static boolean traced() {
        return TRACE_MAX > 0 && TRACED.get() < TRACE_MAX && TRACED.getAndIncrement() < TRACE_MAX;
    }

    /** Logs one traced request's stages, in milliseconds, and when its frame was read. */
    static void trace(RequestContext request, long readNanos, long takenNanos, long handlerNanos, long answeredNanos,
                      long writtenNanos) {
        LOG.log(System.Logger.Level.INFO, String.format("Request trace: read at %.3f ms, %s v%d from %s correlation %d,"
                        + " %d bytes: wait %.3f decode %.3f handle %.3f write %.3f total %.3f ms",
                ms(readNanos - BASE_NANOS), request.apiKey().apiName(), request.apiVersion(), request.clientAddress(),
                request.correlationId(), request.requestBytes(), ms(takenNanos - readNanos),
                ms(handlerNanos - takenNanos), ms(answeredNanos - handlerNanos), ms(writtenNanos - answeredNanos),
                ms(writtenNanos - readNanos)));
    }

    /** One request's stage boundaries, in System.nanoTime(). */
    void record(long readNanos, long takenNanos, long handlerNanos, long answeredNanos, long writtenNanos) {
        add(Stage.WAIT, takenNanos - readNanos);
        add(Stage.DECODE, handlerNanos - takenNanos);
        add(Stage.HANDLE, answeredNanos - handlerNanos);
        add(Stage.WRITE, writtenNanos - answeredNanos);
        add(Stage.TOTAL, writtenNanos - readNanos);
    }

    private void add(Stage stage, long nanos) {
        recorders.get(stage).recordValue(Math.min(Math.max(nanos, 0), HIGHEST_NANOS));
    }

    private synchronized void report() {
        boolean any = false;
        for (Stage stage : Stage.values()) {
            Histogram interval = recorders.get(stage).getIntervalHistogram();
            if (interval.getTotalCount() > 0) any = true;
            totals.get(stage).add(interval);
        }
        if (!any) return;
        for (Stage stage : Stage.values()) {
            Histogram h = totals.get(stage);
            LOG.log(System.Logger.Level.INFO, String.format("%s stage %-6s requests %d: p50 %.3f p90 %.3f p99 %.3f"
                            + " p99.9 %.3f max %.3f ms", api.apiName(), stage, h.getTotalCount(),
                    ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(90)), ms(h.getValueAtPercentile(99)),
                    ms(h.getValueAtPercentile(99.9)), ms(h.getMaxValue())));
        }
    }

    private static double ms(long nanos) {
        return nanos / 1e6;
    }
}
