package io.tandem.server.zab;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.function.BiConsumer;

/**
 * What Apache ZooKeeper 3.9's mntr reports about a server's transaction log, counted where Tandem's log is written
 * and made durable: {@code sync_processor_request_queued} (requests handed to the log's stage: SyncRequestProcessor's
 * SYNC_PROCESSOR_QUEUED), {@code sync_processor_batch_size} (requests made durable by one flush: its BATCH_SIZE
 * summary, which counts the transactions and, on a standalone server, the reads held behind them, as Apache's toFlush
 * list holds them) and {@code fsynctime} (the ms of each fsync of the log: FileTxnLog.commit's FSYNC_TIME summary), each
 * summary printed as a {@link FigureSummary}; and, for the AdminServer's {@code server_stats}, the fsyncs that took longer
 * than {@code fsync.warningthresholdms} (each also warned about, as Apache's FileTxnLog.commit does). A sync with nothing appended since the last one is not counted, as
 * Apache's SyncRequestProcessor does not flush an empty batch.
 *
 * <p>Every kind of member keeps one: an ensemble member's Zab log ({@link FileZabDisk#append}, {@link FileZabDisk#sync},
 * where only transactions reach the log, as only proposals reach an Apache member's SyncRequestProcessor) and the
 * standalone server's group commit (the {@code LogSyncer}), where every request the commit thread takes counts as
 * queued, as every request passes Apache's standalone SyncRequestProcessor.
 *
 * <p>Thread-safe: the commit thread, the log's thread and mntr's reader meet here.
 */
public final class LogSyncStats {
    private static final Logger LOG = System.getLogger(LogSyncStats.class.getName());
    /** Apache's default for {@code fsync.warningthresholdms}: an fsync longer than this is warned about and counted. */
    public static final long FSYNC_WARNING_THRESHOLD_MS_DEFAULT = 1000;

    private volatile long fsyncWarningThresholdMs = FSYNC_WARNING_THRESHOLD_MS_DEFAULT;
    private long fsyncThresholdExceeded;
    private long queued;
    private long unsynced;
    private final FigureSummary batchSize = new FigureSummary("sync_processor_batch_size");
    private final FigureSummary fsyncMs = new FigureSummary("fsynctime");

    /** {@code requests} were handed to the log's stage (not necessarily transactions, on a standalone server). */
    public synchronized void queued(long requests) {
        queued += requests;
    }

    /**
     * {@code requests} were appended to the log (transactions) or wait behind it (a standalone server's reads held
     * behind them), to be made durable or answered by the next sync: its batch.
     */
    public synchronized void appended(long requests) {
        unsynced += requests;
    }

    /** The log was fsynced in {@code elapsedMs}: the transactions appended since the last one are durable. */
    public synchronized void synced(long elapsedMs) {
        if (unsynced == 0) return;
        if (elapsedMs > fsyncWarningThresholdMs) {
            // Apache's FileTxnLog.commit counts it in ServerStats and warns with these words.
            fsyncThresholdExceeded++;
            LOG.log(Level.WARNING, () -> "fsync-ing the write ahead log in " + Thread.currentThread().getName()
                    + " took " + elapsedMs + "ms which will adversely effect operation latency. See the ZooKeeper "
                    + "troubleshooting guide");
        }
        batchSize.add(unsynced);
        fsyncMs.add(elapsedMs);
        unsynced = 0;
    }

    /** {@code fsync.warningthresholdms}: fsyncs longer than this many ms are warned about and counted. */
    public void fsyncWarningThresholdMs(long thresholdMs) {
        this.fsyncWarningThresholdMs = thresholdMs;
    }

    /** Fsyncs longer than the threshold so far (Apache's ServerStats fsync_threshold_exceed_count, in server_stats). */
    public synchronized long fsyncThresholdExceeded() {
        return fsyncThresholdExceeded;
    }

    /** mntr's lines, under Apache's names. */
    public synchronized void report(BiConsumer<String, Object> line) {
        line.accept("zk_sync_processor_request_queued", queued);
        fsyncMs.report(line);
        batchSize.report(line);
    }
}
