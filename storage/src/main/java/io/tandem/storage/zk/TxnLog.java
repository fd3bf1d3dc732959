package io.tandem.storage.zk;

import static io.tandem.storage.zk.LogFileFormat.FILE_HEADER_BYTES;
import static io.tandem.storage.zk.LogFileFormat.RECORD_HEADER_BYTES;
import static io.tandem.storage.zk.LogFileFormat.TXN_BYTES_MAX;

import java.io.Closeable;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.zip.CRC32C;

/**
 * The ZooKeeper transaction log: files of CRC'd records in strictly increasing zxid order, written with group commit.
 *
 * <p>{@link #append} only buffers; {@link #sync} writes and fsyncs everything appended so far, so a caller appends a
 * batch of proposals and pays for one fsync. Files are named {@code log.<first zxid, 16 hex digits>} and roll once they
 * reach the configured size. The roll happens inside {@link #sync}, never in {@link #append}: once a sync finds the
 * file full, later appends are held in memory while it forces the file, and only then does the next file start. So an
 * append never waits for an fsync (the thread that appends is usually the one that answers clients), and a file
 * receives records only once every earlier file is entirely on disk, which keeps "only the last file can have a torn
 * tail" true after a power loss.
 *
 * <p>Preallocation, as Apache's FilePadding ({@value #PREALLOC_PROPERTY}, in KiB, default 64 MiB; 0 turns it off): the
 * file being written grows in whole blocks of that size ahead of the records, and zeros are written a chunk ahead of
 * them, so an fsync after an append has neither a new file size nor new blocks to record. A record never has zxid 0, so a record header of zero
 * bytes marks where the records end; recovery accepts such a tail only if it is zero to the end of the file. A file
 * that is rolled away from, or closed, is cut back to its records.
 *
 * <p>{@link #open} scans every file: a damaged last record of the last file is a torn tail of
 * an interrupted write and is cut off; a damaged record followed by valid data is corruption and is refused with a
 * {@link CorruptLogException}, because dropping it could silently lose committed transactions.
 *
 * <p>The recovery scan lives in {@link TxnLogRecovery} and the preallocation in {@link LogPadding}; this class keeps
 * the appends, group commit, rolls, replay, truncation and purging.
 *
 * <p>Thread safety: any thread may call any method. Appends proceed while another thread is inside {@code sync}'s
 * fsync. Lock order is structure lock, then sync lock, then this object's monitor.
 */
public final class TxnLog implements Closeable {
    public static final long DEFAULT_ROLL_BYTES = 64L << 20;
    /** Apache's system property for the preallocation block, in KiB (FilePadding). */
    public static final String PREALLOC_PROPERTY = "zookeeper.preAllocSize";
    /** The same setting as a zoo.cfg key (Apache sets the system property from it). */
    public static final String PREALLOC_KEY = "preAllocSize";
    /** Apache's default preallocation block: 64 MiB. */
    public static final long PREALLOC_BYTES_DEFAULT = 64L << 20;
    private static final int WRITE_BUFFER_BYTES = 64 << 10;
    /**
     * While a roll waits for the full file's fsync, appends are held in a buffer that may grow to this size (a few
     * fsyncs' worth of a busy server's appends); past it they are written to the full file and the roll waits for the
     * next sync instead, so the memory held stays bounded.
     */
    private static final int ROLL_HOLD_BYTES_MAX = 16 << 20;

    private final Path dir;
    private final long rollBytes;
    /** The preallocation of {@link #current}: its size on disk and the zeros ahead of its records. */
    private final LogPadding padding;
    /** Held shared by replays and exclusively by truncation and purging, which delete or shorten files. */
    private final ReentrantReadWriteLock structureLock = new ReentrantReadWriteLock();
    /** Serializes fsyncs and rolls, and the closing of channels that an fsync might still be using. */
    private final Object syncLock = new Object();

    // Guarded by this object's monitor.
    private final TreeMap<Long, Path> files = new TreeMap<>();
    /** Appended records not yet written to {@link #current}; larger than usual only while a roll is pending. */
    private ByteBuffer writeBuffer = ByteBuffer.allocate(WRITE_BUFFER_BYTES);
    /** The zxid of the first record in {@link #writeBuffer} (the name of the next file if a roll moves them there). */
    private long bufferFirstZxid;
    /** A sync found {@link #current} full and is forcing it: appends stay in the buffer for the next file. */
    private boolean rollPending;
    /** The record CRC's checksum and header scratch, reused by every append (two allocations per write otherwise). */
    private final CRC32C appendCrc = new CRC32C();
    private final ByteBuffer appendCrcScratch = ByteBuffer.allocate(12);
    /**
     * The file being appended to. RandomAccessFile rather than FileChannel on purpose: a FileChannel is closed for
     * every user when any thread is interrupted inside one of its operations, which would turn a routine thread
     * interrupt during shutdown into a broken log.
     */
    private RandomAccessFile current;
    /** Bytes written to {@link #current} (its header and the records flushed from the buffer). */
    private long currentBytes;
    private long lastZxid;
    private boolean directoryDirty;
    private boolean closed;
    private final long truncatedTailBytes;

    private volatile long syncedZxid;

    private TxnLog(Path dir, long rollBytes, long preAllocBytes, long truncatedTailBytes) {
        this.dir = dir;
        this.rollBytes = rollBytes;
        this.padding = new LogPadding(preAllocBytes);
        this.truncatedTailBytes = truncatedTailBytes;
    }

    public static TxnLog open(Path dir) throws IOException {
        return open(dir, DEFAULT_ROLL_BYTES);
    }

    /** Opens (creating if needed) the log in {@code dir}, recovering as described in the class comment. */
    public static TxnLog open(Path dir, long rollBytes) throws IOException {
        return open(dir, rollBytes, configuredPreAllocBytes());
    }

    /**
     * The preallocation block from {@value #PREALLOC_PROPERTY} (KiB, as Apache reads it), {@link #PREALLOC_BYTES_DEFAULT}
     * when unset; 0 or less turns preallocation off.
     */
    public static long configuredPreAllocBytes() {
        String value = System.getProperty(PREALLOC_PROPERTY);
        if (value == null || value.isBlank()) {
            return PREALLOC_BYTES_DEFAULT;
        }
        return preAllocBytes(PREALLOC_PROPERTY, value);
    }

    /**
     * The preallocation block set by zoo.cfg's {@value #PREALLOC_KEY} when it is there (Apache's QuorumPeerConfig turns
     * that key into the system property {@value #PREALLOC_PROPERTY}, so the file's value wins), else
     * {@link #configuredPreAllocBytes()}.
     *
     * @param zooCfgValue the key's value, or null when zoo.cfg does not set it
     */
    public static long preAllocBytes(String zooCfgValue) {
        return zooCfgValue == null ? configuredPreAllocBytes() : preAllocBytes(PREALLOC_KEY, zooCfgValue);
    }

    /**
     * A number of KiB as Apache's FilePadding reads it (times 1024; zero or less turns preallocation off). Apache logs
     * a value that is not a number and keeps the default; here it is refused, naming the setting.
     */
    private static long preAllocBytes(String setting, String value) {
        long kib;
        try {
            kib = Long.parseLong(value.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(setting + " must be a number of KiB: " + value, e);
        }
        if (kib > Long.MAX_VALUE / 1024) {
            throw new IllegalArgumentException(setting + " is too large (KiB): " + value);
        }
        return Math.max(0, kib * 1024);
    }

    /** As {@link #open(Path, long)} with a preallocation block of {@code preAllocBytes} (0: none). */
    public static TxnLog open(Path dir, long rollBytes, long preAllocBytes) throws IOException {
        if (preAllocBytes < 0) {
            throw new IllegalArgumentException("preAllocBytes must not be negative: " + preAllocBytes);
        }
        if (rollBytes < FILE_HEADER_BYTES + RECORD_HEADER_BYTES) {
            throw new IllegalArgumentException("rollBytes too small: " + rollBytes);
        }
        TxnLogRecovery.Recovered found = TxnLogRecovery.recover(dir);
        TxnLog log = new TxnLog(dir, rollBytes, preAllocBytes, found.truncatedBytes());
        log.files.putAll(found.files());
        log.lastZxid = found.lastZxid();
        log.syncedZxid = found.lastZxid();
        if (found.lastFile() != null) {
            log.current = new RandomAccessFile(found.lastFile().toFile(), "rw");
            log.current.seek(found.lastFileEnd());
            log.currentBytes = found.lastFileEnd();
            // The zero tail found is kept and written over; whether it is sparse is not known: zeros are written
            // ahead again.
            log.padding.reset(found.lastFileSize(), found.lastFileEnd());
        }
        return log;
    }

    /**
     * Buffers one transaction. It is durable only after the next {@link #sync}.
     *
     * @throws IllegalArgumentException when {@code zxid} does not exceed {@link #lastZxid()}
     */
    public void append(long zxid, byte[] txn) throws IOException {
        append(zxid, txn, 0, txn.length);
    }

    /**
     * As {@link #append(long, byte[])} with the transaction in {@code length} bytes of {@code bytes} from
     * {@code offset}: they are copied before this returns, so a writer may serialize every transaction into one
     * reused buffer instead of a new array each.
     */
    public synchronized void append(long zxid, byte[] bytes, int offset, int length) throws IOException {
        ensureOpen();
        if (zxid <= lastZxid) {
            throw new IllegalArgumentException("zxid " + Long.toHexString(zxid) + " does not follow last zxid "
                    + Long.toHexString(lastZxid));
        }
        if (length > TXN_BYTES_MAX) {
            throw new IllegalArgumentException("transaction of " + length + " bytes exceeds " + TXN_BYTES_MAX);
        }
        if (offset < 0 || length < 0 || offset > bytes.length - length) {
            throw new IndexOutOfBoundsException("transaction at " + offset + " of " + length + " bytes in an array of "
                    + bytes.length);
        }
        if (current == null) {
            // The first file, or the next one after a roll that found nothing held (or failed to start the file
            // for what it held: the file is named after the first record it will contain either way).
            startFile(writeBuffer.position() > 0 ? bufferFirstZxid : zxid);
        }
        int recordBytes = RECORD_HEADER_BYTES + length;
        if (writeBuffer.remaining() < recordBytes) {
            if (rollPending && writeBuffer.position() + recordBytes <= ROLL_HOLD_BYTES_MAX) {
                growBuffer(writeBuffer.position() + recordBytes);
            } else {
                flushBuffer();
            }
        }
        int crc = LogFileFormat.crc(appendCrc, appendCrcScratch, length, zxid, bytes, offset);
        if (writeBuffer.remaining() >= recordBytes) {
            if (writeBuffer.position() == 0) {
                bufferFirstZxid = zxid;
            }
            writeBuffer.putInt(length).putInt(crc).putLong(zxid).put(bytes, offset, length);
        } else {
            byte[] header = ByteBuffer.allocate(RECORD_HEADER_BYTES).putInt(length).putInt(crc).putLong(zxid)
                    .array();
            padding.padAhead(current, currentBytes + recordBytes, currentBytes);
            current.write(header);
            current.write(bytes, offset, length);
            currentBytes += recordBytes;
        }
        lastZxid = zxid;
    }

    /**
     * Writes and fsyncs everything appended so far: the group commit point. When the file has reached the roll size,
     * this is also where the next file starts (see the class comment).
     */
    public void sync() throws IOException {
        synchronized (syncLock) {
            RandomAccessFile toForce;
            long forcedBytes;
            long target;
            boolean forceDirectory;
            synchronized (this) {
                ensureOpen();
                flushBuffer();
                toForce = current;
                forcedBytes = currentBytes;
                target = lastZxid;
                forceDirectory = directoryDirty;
                directoryDirty = false;
                rollPending = toForce != null && currentBytes >= rollBytes;
            }
            if (toForce != null) {
                toForce.getFD().sync();
            }
            if (forceDirectory) {
                DirectorySync.fsync(dir);
            }
            if (target > syncedZxid) {
                syncedZxid = target;
            }
            if (rollPending) {
                finishRoll(toForce, forcedBytes);
            }
        }
    }

    /**
     * The full file {@code forced} is on disk up to {@code forcedBytes}: if nothing was written to it since, it is
     * closed and the records held meanwhile start the next file (whose directory entry the next sync makes durable
     * before it reports them synced). If something was written to it (the hold buffer overflowed, a replay flushed
     * it), the next sync tries again.
     */
    private synchronized void finishRoll(RandomAccessFile forced, long forcedBytes) throws IOException {
        if (!rollPending || current != forced) {
            return; // truncated or closed meanwhile
        }
        rollPending = false;
        if (currentBytes != forcedBytes) {
            return;
        }
        current = null;
        currentBytes = 0;
        LogPadding.trim(forced, forcedBytes);
        forced.close();
        if (writeBuffer.position() > 0) {
            startFile(bufferFirstZxid);
        }
        if (writeBuffer.capacity() > WRITE_BUFFER_BYTES && writeBuffer.position() <= WRITE_BUFFER_BYTES) {
            shrinkBuffer();
        }
    }

    /** The zxid of the last appended transaction (durable or not), 0 when the log is empty. */
    public synchronized long lastZxid() {
        return lastZxid;
    }

    /** The zxid up to which the log is known durable. */
    public long lastSyncedZxid() {
        return syncedZxid;
    }

    /** The first zxid still held (earlier ones were purged), 0 when the log is empty. */
    public synchronized long firstZxid() {
        return files.isEmpty() ? 0 : files.firstKey();
    }

    /** How many bytes of torn tail {@link #open} cut off (0 after a clean shutdown). */
    public long truncatedTailBytes() {
        return truncatedTailBytes;
    }

    /**
     * Replays, in order, every transaction with zxid greater than {@code afterZxid}, including appended ones not yet
     * synced. Every record's CRC is checked again on the way.
     */
    public void forEach(long afterZxid, TxnConsumer consumer) throws IOException {
        structureLock.readLock().lock();
        try {
            List<Path> toRead = new ArrayList<>();
            List<Long> limits = new ArrayList<>();
            synchronized (this) {
                ensureOpen();
                flushBuffer();
                // The file holding afterZxid + 1 is the last one starting at or before it.
                Long start = files.floorKey(afterZxid == Long.MAX_VALUE ? afterZxid : afterZxid + 1);
                Map<Long, Path> tail = start == null ? files : files.tailMap(start, true);
                for (Path file : tail.values()) {
                    toRead.add(file);
                }
                // Only the current file grows; the bytes flushed so far are complete records.
                for (int i = 0; i < toRead.size(); i++) {
                    limits.add(i == toRead.size() - 1 && current != null ? currentBytes : -1L);
                }
            }
            long previousZxid = 0;
            for (int i = 0; i < toRead.size(); i++) {
                Path file = toRead.get(i);
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    long limit = limits.get(i) >= 0 ? limits.get(i) : channel.size();
                    LogFileFormat.ScanResult scan =
                            LogFileFormat.scan(channel, limit, previousZxid, afterZxid, Long.MAX_VALUE, consumer);
                    if (scan.failure != null) {
                        throw new CorruptLogException(file, scan.failurePosition, scan.failure);
                    }
                    previousZxid = scan.lastZxid;
                }
            }
        } finally {
            structureLock.readLock().unlock();
        }
    }

    /** Zab TRUNC: drops every transaction with zxid greater than {@code zxid}, durably, before returning. */
    public void truncateAfter(long zxid) throws IOException {
        structureLock.writeLock().lock();
        try {
            synchronized (syncLock) {
                synchronized (this) {
                    ensureOpen();
                    if (zxid >= lastZxid) {
                        return;
                    }
                    flushBuffer();
                    closeChannelsForRestructure();
                    while (!files.isEmpty() && files.lastKey() > zxid) {
                        Files.delete(files.pollLastEntry().getValue());
                    }
                    long newLast = 0;
                    if (!files.isEmpty()) {
                        Path file = files.lastEntry().getValue();
                        LogFileFormat.ScanResult kept;
                        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                            kept = LogFileFormat.scan(channel, channel.size(), 0, Long.MAX_VALUE, zxid, null);
                        }
                        if (kept.failure != null) {
                            throw new CorruptLogException(file, kept.failurePosition, kept.failure);
                        }
                        RandomAccessFile reopened = new RandomAccessFile(file.toFile(), "rw");
                        reopened.setLength(kept.validEnd);
                        reopened.getFD().sync();
                        reopened.seek(kept.validEnd);
                        current = reopened;
                        currentBytes = kept.validEnd;
                        padding.reset(kept.validEnd, kept.validEnd);
                        newLast = kept.lastZxid;
                    }
                    DirectorySync.fsync(dir);
                    lastZxid = newLast;
                    syncedZxid = Math.min(syncedZxid, newLast);
                }
            }
        } finally {
            structureLock.writeLock().unlock();
        }
    }

    /**
     * Deletes whole files that hold only transactions with zxid below {@code zxid}. The newest file always stays, so
     * the log still knows its last zxid after a restart.
     */
    public void purgeBefore(long zxid) throws IOException {
        structureLock.writeLock().lock();
        try {
            List<Path> purged = new ArrayList<>();
            synchronized (this) {
                ensureOpen();
                while (files.size() > 1) {
                    Map.Entry<Long, Path> oldest = files.firstEntry();
                    long nextFirst = files.higherKey(oldest.getKey());
                    // Every zxid in the oldest file is below the next file's first zxid.
                    if (nextFirst > zxid) {
                        break;
                    }
                    files.pollFirstEntry();
                    purged.add(oldest.getValue());
                }
            }
            // Outside the monitor, so appends (the commit thread's) never wait for the deletes and the directory's
            // fsync; the write lock still keeps replays away from the files going. The current file is never among
            // them: the newest file always stays.
            for (Path file : purged) {
                Files.delete(file);
            }
            if (!purged.isEmpty()) {
                DirectorySync.fsync(dir);
            }
        } finally {
            structureLock.writeLock().unlock();
        }
    }

    /** The log files currently held, oldest first. */
    public synchronized List<Path> files() {
        return List.copyOf(files.values());
    }

    /** Flushes buffered appends to the OS (without fsync) and closes the files. Unsynced appends are not durable. */
    @Override
    public void close() throws IOException {
        synchronized (syncLock) {
            synchronized (this) {
                if (closed) {
                    return;
                }
                try {
                    if (current != null) {
                        flushBuffer();
                        LogPadding.trim(current, currentBytes);
                    }
                } finally {
                    closed = true;
                    closeChannelsForRestructure();
                }
            }
        }
    }

    /** Creates the file that starts at {@code firstZxid} and makes it current; the next sync makes its name durable. */
    private void startFile(long firstZxid) throws IOException {
        Path file = dir.resolve(LogFileFormat.fileName(firstZxid));
        RandomAccessFile created = new RandomAccessFile(Files.createFile(file).toFile(), "rw");
        created.write(LogFileFormat.header().array());
        files.put(firstZxid, file);
        current = created;
        currentBytes = FILE_HEADER_BYTES;
        padding.reset(FILE_HEADER_BYTES, FILE_HEADER_BYTES);
        directoryDirty = true;
        padding.padAhead(current, currentBytes, currentBytes);
    }

    private void flushBuffer() throws IOException {
        if (writeBuffer.position() == 0) {
            return;
        }
        padding.padAhead(current, currentBytes + writeBuffer.position(), currentBytes);
        current.write(writeBuffer.array(), 0, writeBuffer.position());
        currentBytes += writeBuffer.position();
        writeBuffer.clear();
        if (writeBuffer.capacity() > WRITE_BUFFER_BYTES && !rollPending) {
            shrinkBuffer();
        }
    }

    private void growBuffer(int atLeast) {
        int capacity = (int) Math.min(ROLL_HOLD_BYTES_MAX, Math.max(atLeast, 2L * writeBuffer.capacity()));
        ByteBuffer grown = ByteBuffer.allocate(capacity);
        writeBuffer.flip();
        grown.put(writeBuffer);
        writeBuffer = grown;
    }

    private void shrinkBuffer() {
        ByteBuffer small = ByteBuffer.allocate(Math.max(WRITE_BUFFER_BYTES, writeBuffer.position()));
        writeBuffer.flip();
        small.put(writeBuffer);
        writeBuffer = small;
    }

    private void closeChannelsForRestructure() throws IOException {
        writeBuffer.clear();
        rollPending = false;
        if (current != null) {
            current.close();
            current = null;
            currentBytes = 0;
        }
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("transaction log " + dir + " is closed");
        }
    }



}
