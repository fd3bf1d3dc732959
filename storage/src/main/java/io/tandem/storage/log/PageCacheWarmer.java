package io.tandem.storage.log;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;

/**
 * Brings a slice's bytes into the page cache before the broker hands the slice to the network, so that the event
 * loop's sendfile ({@code FileChannel.transferTo}) never waits for the disk: a catch-up read of old segments would
 * otherwise stall every connection on that loop while the disk seeks (Apache Kafka has the same weakness). Called on
 * the thread that answers the fetch (a request handler), never on an event loop.
 *
 * <p>How: the slice's range is mapped read-only; {@link MappedByteBuffer#isLoaded()} asks the kernel (mincore(2))
 * whether every page is resident, and if not {@link MappedByteBuffer#load()} asks for them all at once
 * (madvise(MADV_WILLNEED), one readahead over the range) and touches each page until it is there. The mapping is made
 * and unmapped within the call, on a read-only channel of its own:
 * <ul>
 *   <li>A mapping kept per segment would be cheaper by the map and unmap (about 7 us per slice here), but the JDK 17
 *       API cannot unmap a buffer others may still use, and a garbage-collected unmapping would keep a deleted
 *       segment's disk space for as long as the heap does not need collecting.</li>
 *   <li>Unmapping is {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported, exported on JDK 9+ for exactly
 *       this, as Apache Kafka unmaps its indexes); no mapping outlives the call, so no other thread can touch it.
 *       Without it (a JVM that hides jdk.unsupported) warming is off and a warning says so.</li>
 *   <li>The segment's own channel is writable, and {@code FileChannel.map} extends a writable channel's file when
 *       the range ends past its end (a segment truncated meanwhile): the read-only channel can never change it.</li>
 * </ul>
 *
 * <p>Skipped where it cannot matter: a read of the last {@link #TAIL_BYTES} of the active segment was just appended
 * (a caught-up consumer or follower: most fetches, and the smallest, where the check would cost the most relative to
 * the send) and is in the page cache unless the machine rebooted since. Measured cost of a check of a resident slice
 * (open, map, mincore, unmap, close): docs/BENCHMARKS.md, "Cold segment reads".
 *
 * <p>What the check sees: Linux's mincore reports a page-cache page as resident only once it is up to date
 * (mm/mincore.c, mincore_page: "no page-in operation would be required"), so a page whose read is still in flight
 * (queued by readahead, or by another reader) counts as not resident, and {@code load()} here waits for it on this
 * thread. Measured with {@code bench/kafka/InFlightReadProbe.java} (docs/BENCHMARKS.md, "Cold segment reads"): after
 * madvise(WILLNEED) had queued every page of a range, the range stayed not resident until its reads completed. So
 * a slice that passes the check will not make sendfile wait for the disk, unless its pages are evicted again between
 * the check and the send (only under memory pressure so heavy that pages read milliseconds ago are the coldest).
 *
 * <p>What the counters say: {@code warmed} counts slices that had a page not up to date when checked (not cached,
 * or its read in flight), which this thread then waited for; it is not the number of fetches that found their data
 * outside the page cache. The fetch's own batch-header reads ({@code SegmentSlicer}: one at the slice's start, one
 * near its end) run first on the same thread, wait for their pages and start the kernel's readahead over the slice,
 * so a cold sequential read usually finds the slice resident by the check: its disk wait was spent on the handler
 * thread in those reads, never on the event loop, and the slice counts as checked, not warmed.
 */
public final class PageCacheWarmer {
    private static final System.Logger LOG = System.getLogger(PageCacheWarmer.class.getName());

    /** Reads ending within this many bytes of the active segment's end count as tail reads: not checked. */
    public static final long TAIL_BYTES = 8L << 20;

    /**
     * What the warmer has done since it was made: slices checked, slices that had a page not up to date (loaded here,
     * {@code warmed}, and their bytes), tail reads not checked, checks that failed, and the time spent.
     */
    public record Stats(long checked, long warmed, long warmedBytes, long tailReads, long failed, long checkNanos,
                        long warmNanos, String lastWarmedOn) {
    }

    private final MethodHandle unmapper;
    private final LongAdder checked = new LongAdder();
    private final LongAdder warmed = new LongAdder();
    private final LongAdder warmedBytes = new LongAdder();
    private final LongAdder tailReads = new LongAdder();
    private final LongAdder failed = new LongAdder();
    private final LongAdder checkNanos = new LongAdder();
    private final LongAdder warmNanos = new LongAdder();
    /** The thread of the latest warm-up, for diagnostics (and to show it was not an event loop). */
    private volatile String lastWarmedOn;

    public PageCacheWarmer() {
        this.unmapper = Unmapper.HANDLE;
        if (unmapper == null) {
            LOG.log(System.Logger.Level.WARNING, "Cold segment reads are not warmed before they are sent: mapped "
                    + "buffers cannot be unmapped on this JVM (sun.misc.Unsafe.invokeCleaner: " + Unmapper.PROBLEM
                    + "); a fetch of data outside the page cache blocks its network thread while the disk reads");
        }
    }

    /** Whether warm-ups run at all (false where mappings cannot be unmapped). */
    public boolean enabled() {
        return unmapper != null;
    }

    /**
     * Makes the slice's bytes resident unless it is a tail read of {@code log}'s active segment; returns whether it
     * had to read any from the disk. Never throws: a slice that cannot be checked (its segment deleted or cut short
     * meanwhile) is sent as it is, and the send reports what is wrong with it.
     */
    public boolean warm(Log log, LogSlice slice) {
        if (unmapper == null || slice.isEmpty()) return false;
        try {
            if (isTailRead(log, slice)) {
                tailReads.increment();
                return false;
            }
        } catch (IOException e) {
            failed.increment();
            return false;
        }
        return warm(slice);
    }

    /** As {@link #warm(Log, LogSlice)}, tail reads included. */
    public boolean warm(LogSlice slice) {
        if (unmapper == null || slice.isEmpty()) return false;
        long start = System.nanoTime();
        checked.increment();
        try (FileChannel readOnly = FileChannel.open(slice.file(), StandardOpenOption.READ)) {
            if (readOnly.size() < slice.position() + slice.length()) {
                // Not the file the slice was read from any more (truncated, or replaced under the same name).
                failed.increment();
                return false;
            }
            MappedByteBuffer mapped = readOnly.map(FileChannel.MapMode.READ_ONLY, slice.position(), slice.length());
            try {
                if (mapped.isLoaded()) return false;
                long loadStart = System.nanoTime();
                mapped.load();
                warmNanos.add(System.nanoTime() - loadStart);
                warmed.increment();
                warmedBytes.add(slice.length());
                lastWarmedOn = Thread.currentThread().getName();
                return true;
            } finally {
                unmap(mapped);
            }
        } catch (NoSuchFileException e) {
            // Renamed for deletion or deleted since the read: rare, and the send still works from the open channel.
            failed.increment();
            return false;
        } catch (IOException | RuntimeException | InternalError e) {
            // InternalError: the JVM's report of a SIGBUS, a page past the end of a file cut short while mapped.
            failed.increment();
            LOG.log(System.Logger.Level.DEBUG, "Could not warm " + slice.length() + " bytes at " + slice.position()
                    + " of " + slice.file(), e);
            return false;
        } finally {
            checkNanos.add(System.nanoTime() - start);
        }
    }

    public Stats stats() {
        return new Stats(checked.sum(), warmed.sum(), warmedBytes.sum(), tailReads.sum(), failed.sum(),
                checkNanos.sum(), warmNanos.sum(), lastWarmedOn);
    }

    /** Whether the slice ends within {@link #TAIL_BYTES} of the end of the log's active segment. */
    private static boolean isTailRead(Log log, LogSlice slice) throws IOException {
        // A slice never spans segments, and every batch of the active segment has a base offset at or above the
        // segment's; a roll between the read and this check only makes a tail read of the previous segment look
        // like one of the active segment, which it was a moment ago.
        if (slice.firstOffset() < log.activeSegmentBaseOffset()) return false;
        return slice.channel().size() - (slice.position() + slice.length()) <= TAIL_BYTES;
    }

    private void unmap(MappedByteBuffer mapped) {
        try {
            unmapper.invokeExact((ByteBuffer) mapped);
        } catch (Throwable e) {
            // Left to the garbage collector; only a slice or duplicate is refused, and this buffer is neither.
            LOG.log(System.Logger.Level.WARNING, "Could not unmap a warmed range", e);
        }
    }

    /** {@code sun.misc.Unsafe.invokeCleaner(ByteBuffer)}, bound to the instance, or null and why not. */
    private static final class Unmapper {
        static final MethodHandle HANDLE;
        static final String PROBLEM;

        static {
            MethodHandle handle = null;
            String problem = null;
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                Field field = unsafeClass.getDeclaredField("theUnsafe");
                field.setAccessible(true);
                handle = MethodHandles.lookup()
                        .findVirtual(unsafeClass, "invokeCleaner", MethodType.methodType(void.class, ByteBuffer.class))
                        .bindTo(field.get(null));
            } catch (ReflectiveOperationException | RuntimeException e) {
                problem = e.toString();
            }
            HANDLE = handle;
            PROBLEM = problem;
        }
    }
}
