package io.tandem.server.zookeeper;

import io.tandem.server.zab.FigureSummary;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Server-wide figures for the four-letter words, the AdminServer and the metrics: packets and bytes in and out
 * (counted on Netty threads and the commit thread), the sizes of the last, smallest and largest answer, and the
 * latency of answered requests (recorded and read on the commit thread, where srvr, stat, mntr and srst run).
 */
final class ServerStats {
    /** Apache's BufferStats value for a size not seen yet. */
    static final long NO_SIZE = -1;

    final long startedMillis = System.currentTimeMillis();
    final AtomicLong packetsReceived = new AtomicLong();
    final AtomicLong packetsSent = new AtomicLong();
    /** Request frames' bytes, length prefixes included (Apache's bytes_received_count). */
    final AtomicLong bytesReceived = new AtomicLong();
    /** Answer and notification frames' bytes (Apache's response_bytes). */
    final AtomicLong bytesSent = new AtomicLong();
    final AtomicLong lastResponseBytes = new AtomicLong(NO_SIZE);
    final AtomicLong minResponseBytes = new AtomicLong(NO_SIZE);
    final AtomicLong maxResponseBytes = new AtomicLong(NO_SIZE);
    /**
     * Apache's readlatency and updatelatency summaries (ms from arrival to answer, reads and pings apart from
     * writes, as its ServerStats.updateLatency splits them by the request's txn header); srst leaves them, as it
     * leaves Apache's ServerMetrics.
     */
    final FigureSummary readLatency = FigureSummary.withPercentiles("readlatency");
    final FigureSummary updateLatency = FigureSummary.withPercentiles("updatelatency");
    private volatile ZkRequestObserver observer = ZkRequestObserver.NONE;
    private long latencyMinMs = Long.MAX_VALUE;
    private long latencyMaxMs;
    private long latencyTotalMs;
    private long latencyCount;

    void observe(ZkRequestObserver observer) {
        this.observer = observer;
    }

    /** A request of {@code opCode} was answered; {@code write}: it carried a transaction. */
    void recordLatency(int opCode, long startedNanos, boolean write) {
        long nanos = System.nanoTime() - startedNanos;
        long ms = TimeUnit.NANOSECONDS.toMillis(nanos);
        (write ? updateLatency : readLatency).add(ms);
        latencyMinMs = Math.min(latencyMinMs, ms);
        latencyMaxMs = Math.max(latencyMaxMs, ms);
        latencyTotalMs += ms;
        latencyCount++;
        observer.answered(opCode, nanos);
    }

    /** A frame of {@code bytes} went to a client (any thread). */
    void responseSent(int bytes) {
        bytesSent.addAndGet(bytes);
        lastResponseBytes.set(bytes);
        minResponseBytes.accumulateAndGet(bytes, (old, now) -> old == NO_SIZE ? now : Math.min(old, now));
        maxResponseBytes.accumulateAndGet(bytes, Math::max);
    }

    /** Min, integer average and max latency in ms, then the count and total they come from. */
    long[] latency() {
        return new long[] {latencyCount == 0 ? 0 : latencyMinMs, latencyCount == 0 ? 0 : latencyTotalMs / latencyCount,
                latencyMaxMs, latencyCount, latencyTotalMs};
    }

    /** Apache's average latency: a fraction of a millisecond, 0 before the first answer. */
    double averageLatencyMs() {
        return latencyCount == 0 ? 0.0 : (double) latencyTotalMs / latencyCount;
    }

    /** srst: latency, packet counts and answer sizes start over (the byte totals are counters and stay). */
    void reset() {
        latencyMinMs = Long.MAX_VALUE;
        latencyMaxMs = 0;
        latencyTotalMs = 0;
        latencyCount = 0;
        packetsReceived.set(0);
        packetsSent.set(0);
        lastResponseBytes.set(NO_SIZE);
        minResponseBytes.set(NO_SIZE);
        maxResponseBytes.set(NO_SIZE);
    }
}
