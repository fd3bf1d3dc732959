package io.tandem.server.zab;

import java.util.function.BiConsumer;

/**
 * What Apache ZooKeeper 3.9's mntr reports about a server's transaction log, counted where Tandem's log is written
 * and made durable: {@code sync_processor_request_queued} (requests handed to the log's stage: SyncRequestProcessor's
 * SYNC_PROCESSOR_QUEUED), {@code sync_processor_batch_size} (transactions made durable by one flush: its BATCH_SIZE
 * summary) and {@code fsynctime} (the ms of each fsync of the log: FileTxnLog.commit's FSYNC_TIME summary), each
 * summary printed as a {@link FigureSummary}. A sync with nothing appended since the last one is not counted, as
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
    private long queued;
    private long unsynced;
    private final FigureSummary batchSize = new FigureSummary("sync_processor_batch_size");
    private final FigureSummary fsyncMs = new FigureSummary("fsynctime");

    /** {@code requests} were handed to the log's stage (not necessarily transactions, on a standalone server). */
    public synchronized void queued(long requests) {
        queued += requests;
    }

    /** {@code transactions} were appended to the log, to be made durable by the next sync. */
    public synchronized void appended(long transactions) {
        unsynced += transactions;
    }

    /** The log was fsynced in {@code elapsedMs}: the transactions appended since the last one are durable. */
    public synchronized void synced(long elapsedMs) {
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
}
