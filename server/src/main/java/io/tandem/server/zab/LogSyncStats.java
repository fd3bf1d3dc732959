package io.tandem.server.zab;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.function.BiConsumer;

/**
 * What Apache ZooKeeper 3.9's mntr reports about a member's transaction log, counted where Tandem's log is written
 * and made durable ({@link FileZabDisk#append}, {@link FileZabDisk#sync}): {@code sync_processor_request_queued}
 * (transactions handed to the log: SyncRequestProcessor's SYNC_PROCESSOR_QUEUED), {@code sync_processor_batch_size}
 * (transactions made durable by one flush: its BATCH_SIZE summary) and {@code fsynctime} (the ms of each fsync of
 * the log: FileTxnLog.commit's FSYNC_TIME summary). A summary is printed as Apache's AvgMinMaxCounter prints one:
 * avg (4 decimals, half up), min, max, cnt, sum; 0 for each while empty. A sync with nothing appended since the last
 * one is not counted, as Apache's SyncRequestProcessor does not flush an empty batch.
 *
 * <p>Thread-safe: the leader's proposer, the follower's thread and mntr's reader meet here.
 */
public final class LogSyncStats {
    private long queued;
    private long unsynced;
    private final Summary batchSize = new Summary("sync_processor_batch_size");
    private final Summary fsyncMs = new Summary("fsynctime");

    /** One transaction appended to the log. */
    synchronized void appended() {
        queued++;
        unsynced++;
    }

    /** The log was fsynced in {@code elapsedMs}: the transactions appended since the last one are durable. */
    synchronized void synced(long elapsedMs) {
        if (unsynced == 0) return;
        batchSize.add(unsynced);
        fsyncMs.add(elapsedMs);
        unsynced = 0;
    }

    /** mntr's lines, under Apache's names. */
    public synchronized void report(BiConsumer<String, Object> line) {
        line.accept("zk_sync_processor_request_queued", queued);
        fsyncMs.report(line);
        batchSize.report(line);
    }

    /** Apache's AvgMinMaxCounter. */
    private static final class Summary {
        private final String name;
        private long count;
        private long sum;
        private long min = Long.MAX_VALUE;
        private long max = Long.MIN_VALUE;

        Summary(String name) {
            this.name = name;
        }

        void add(long value) {
            count++;
            sum += value;
            min = Math.min(min, value);
            max = Math.max(max, value);
        }

        void report(BiConsumer<String, Object> line) {
            double avg = count == 0 ? 0.0
                    : new BigDecimal(sum / (double) count).setScale(4, RoundingMode.HALF_UP).doubleValue();
            line.accept("zk_avg_" + name, avg);
            line.accept("zk_min_" + name, count == 0 ? 0 : min);
            line.accept("zk_max_" + name, count == 0 ? 0 : max);
            line.accept("zk_cnt_" + name, count);
            line.accept("zk_sum_" + name, sum);
        }
    }
}
