package io.tandem.server.zookeeper;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Server-wide figures for the four-letter words: packets in and out (counted on Netty threads) and the latency of
 * answered requests (recorded and read on the commit thread, where srvr, stat, mntr and srst run).
 */
final class ServerStats {
    final long startedMillis = System.currentTimeMillis();
    final AtomicLong packetsReceived = new AtomicLong();
    final AtomicLong packetsSent = new AtomicLong();
    private long latencyMinMs = Long.MAX_VALUE;
    private long latencyMaxMs;
    private long latencyTotalMs;
    private long latencyCount;

    void recordLatency(long startedNanos) {
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
        latencyMinMs = Math.min(latencyMinMs, ms);
        latencyMaxMs = Math.max(latencyMaxMs, ms);
        latencyTotalMs += ms;
        latencyCount++;
    }

    /** Min, integer average and max latency in ms, then the count and total they come from. */
    long[] latency() {
        return new long[] {latencyCount == 0 ? 0 : latencyMinMs, latencyCount == 0 ? 0 : latencyTotalMs / latencyCount,
                latencyMaxMs, latencyCount, latencyTotalMs};
    }

    /** srst: latency and packet counts start over. */
    void reset() {
        latencyMinMs = Long.MAX_VALUE;
        latencyMaxMs = 0;
        latencyTotalMs = 0;
        latencyCount = 0;
        packetsReceived.set(0);
        packetsSent.set(0);
    }
}
