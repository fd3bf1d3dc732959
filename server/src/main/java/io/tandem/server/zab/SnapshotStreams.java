package io.tandem.server.zab;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.CorruptedFrameException;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;

/**
 * A SNAP's snapshot over the quorum port in bounded chunks, so neither side ever holds the serialized tree (hundreds of
 * MB for a million znodes) in one buffer or frame. The SYNC frame announces the size ({@link ZabCodec}); the bytes
 * follow in {@link ZabCodec#SNAPSHOT_CHUNK} frames of at most {@code chunkBytes} on the same connection, before any
 * other frame.
 *
 * <p>Sending: a batch holding such a SYNC is handed to the sender thread, which writes the frames before it, the SYNC,
 * the chunks read from the snapshot's file (at most two chunks in the connection's outbound buffer: it waits for the
 * previous write before the next), then the frames after it. Batches sent to that connection meanwhile queue behind
 * it in order, bounded in bytes ({@link #configuredQueuedBytesMax}: a few proposals of large znodes weigh more than
 * thousands of pings) and in count ({@link #QUEUED_BATCHES_MAX}); past either the connection is closed and Zab
 * re-syncs the follower.
 *
 * <p>Receiving: the chunks are written to a temporary file by the receiver thread (never on the event loop), and the
 * SYNC is delivered with that file once complete; messages that arrive after the SYNC are delivered by the same thread
 * in order behind it. Reading stops (autoRead off) while more than {@link #QUEUED_CHUNKS_MAX} chunks wait for the disk.
 */
final class SnapshotStreams implements Closeable {
    private static final Logger LOG = System.getLogger(SnapshotStreams.class.getName());

    /** Default chunk size: large enough that per-frame costs vanish, small next to any heap. */
    static final int CHUNK_BYTES_DEFAULT = 1 << 20;
    /** The system property that overrides the chunk size (tests lower it so that many chunks flow). */
    static final String CHUNK_BYTES_PROPERTY = "tandem.zab.snapshotChunkBytes";
    /** Batches queued behind a snapshot being streamed to one follower before its connection is given up. */
    static final int QUEUED_BATCHES_MAX = 100_000;
    /**
     * The system property that sets the bytes (their frames' size) queued behind a snapshot being streamed to one
     * follower before its connection is given up; tests lower it.
     */
    static final String QUEUED_BYTES_PROPERTY = "tandem.zab.snapshotQueuedBytes";
    /** Default byte bound: a slow stream under heavy writes may queue this much; an eighth of the heap at most. */
    static final long QUEUED_BYTES_DEFAULT = 256L << 20;
    /** Bytes of a message other than a proposal, request or sync, rounded up (pings, commits, acks). */
    private static final int SMALL_MESSAGE_BYTES = 64;
    /** Received chunks waiting for the receiver thread before the connection stops reading. */
    static final int QUEUED_CHUNKS_MAX = 8;
    private static final String INCOMING_PREFIX = "snapshot-";
    private static final String INCOMING_SUFFIX = ".incoming";

    private final int myId;
    private final int chunkBytes;
    private final long queuedBytesMax;
    private final Path incomingDir;
    private final ExecutorService sender;
    private final ExecutorService receiver;
    /** Connections a snapshot is being streamed to, with the batches waiting behind it; guarded by itself. */
    private final Map<Channel, Backlog> outgoing = new HashMap<>();
    /** The number of entries in {@link #outgoing}: while 0, a send without a snapshot takes no lock. */
    private final AtomicInteger streaming = new AtomicInteger();
    private final AtomicLong chunksSent = new AtomicLong();
    private final AtomicLong chunksReceived = new AtomicLong();

    /** {@code incomingDir}: where received snapshots are written until Zab has stored them (emptied here). */
    SnapshotStreams(int myId, int chunkBytes, Path incomingDir) throws IOException {
        this(myId, chunkBytes, configuredQueuedBytesMax(), incomingDir);
    }

    /** {@code queuedBytesMax}: the bytes of the batches that may wait behind one connection's snapshot. */
    SnapshotStreams(int myId, int chunkBytes, long queuedBytesMax, Path incomingDir) throws IOException {
        Checks.require(chunkBytes > 0, "snapshot chunk size %d must be positive", chunkBytes);
        Checks.require(queuedBytesMax > 0, "snapshot backlog bound %d must be positive", queuedBytesMax);
        this.myId = myId;
        this.chunkBytes = chunkBytes;
        this.queuedBytesMax = queuedBytesMax;
        this.incomingDir = incomingDir;
        Files.createDirectories(incomingDir);
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(incomingDir,
                INCOMING_PREFIX + "*" + INCOMING_SUFFIX)) {
            for (Path leftover : leftovers) {
                Files.delete(leftover); // a re-sync that a crash or close interrupted: the leader sends it again
            }
        }
        this.sender = Executors.newSingleThreadExecutor(daemon("zab-snapshot-sender-" + myId));
        this.receiver = Executors.newSingleThreadExecutor(daemon("zab-snapshot-receiver-" + myId));
    }

    /** The chunk size from {@link #CHUNK_BYTES_PROPERTY}, else the default. */
    static int configuredChunkBytes() {
        return Integer.getInteger(CHUNK_BYTES_PROPERTY, CHUNK_BYTES_DEFAULT);
    }

    /** The byte bound from {@link #QUEUED_BYTES_PROPERTY}, else the default capped at an eighth of the heap. */
    static long configuredQueuedBytesMax() {
        return Long.getLong(QUEUED_BYTES_PROPERTY, Math.min(QUEUED_BYTES_DEFAULT, Runtime.getRuntime().maxMemory() / 8));
    }

    /** The bytes a message's frame takes, as near as counting them matters: what it holds in transactions. */
    static long frameBytes(ZabMessage message) {
        if (message instanceof ZabMessage.Proposal proposal) return ZabCodec.proposalFrameBytes(proposal.txn().length);
        if (message instanceof ZabMessage.Request request) return ZabCodec.proposalFrameBytes(request.txn().length);
        long bytes = SMALL_MESSAGE_BYTES;
        if (message instanceof ZabMessage.Sync sync) {
            for (LogEntry entry : sync.entries()) bytes += ZabCodec.proposalFrameBytes(entry.txn().length);
        }
        return bytes;
    }

    private static long frameBytes(List<ZabMessage> batch) {
        long bytes = 0;
        for (ZabMessage message : batch) bytes += frameBytes(message);
        return bytes;
    }

    /** The batches waiting behind one connection's snapshot, each with its bytes, and their sum. */
    private static final class Backlog {
        final ArrayDeque<Waiting> batches = new ArrayDeque<>();
        long bytes;
        /** Past a bound: the connection is closing and what is sent to it is dropped. */
        boolean givenUp;
    }

    private record Waiting(List<ZabMessage> messages, long bytes) {
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    long chunksSent() {
        return chunksSent.get();
    }

    long chunksReceived() {
        return chunksReceived.get();
    }

    // ---------------------------------------------------------------- sending

    /**
     * Takes {@code messages} for {@code channel} when they hold a snapshot to stream or must wait behind one being
     * streamed; false means the caller sends them as usual.
     */
    boolean divert(Channel channel, List<ZabMessage> messages) {
        if (streaming.get() == 0 && messages.stream().noneMatch(SnapshotStreams::carriesSnapshot)) {
            return false; // the common case: proposals, commits and pings with no stream in progress
        }
        synchronized (outgoing) {
            Backlog waiting = outgoing.get(channel);
            if (waiting != null) {
                if (waiting.givenUp) {
                    return true; // closing: its batches are dropped, the follower is synced again on a new connection
                }
                long bytes = frameBytes(messages);
                if (waiting.batches.size() >= QUEUED_BATCHES_MAX || waiting.bytes + bytes > queuedBytesMax) {
                    LOG.log(Level.WARNING, "server {0}: closing the quorum connection {1}: {2} batches of {3} bytes "
                            + "wait behind the snapshot being sent, and {4} more bytes would pass the bound of {5} "
                            + "batches or {6} bytes ({7}); the follower will be synced again", myId,
                            channel.remoteAddress(), waiting.batches.size(), waiting.bytes, bytes, QUEUED_BATCHES_MAX,
                            queuedBytesMax, QUEUED_BYTES_PROPERTY);
                    waiting.givenUp = true;
                    waiting.batches.clear(); // the heap they held goes now, not when the sender thread notices
                    waiting.bytes = 0;
                    channel.close();
                    return true;
                }
                waiting.batches.add(new Waiting(messages, bytes));
                waiting.bytes += bytes;
                return true;
            }
            if (messages.stream().noneMatch(SnapshotStreams::carriesSnapshot)) {
                return false;
            }
            Backlog backlog = new Backlog();
            backlog.batches.add(new Waiting(messages, 0)); // the batch being sent: not counted as waiting
            outgoing.put(channel, backlog);
            streaming.incrementAndGet();
        }
        sender.execute(() -> drain(channel));
        return true;
    }

    private static boolean carriesSnapshot(ZabMessage message) {
        return message instanceof ZabMessage.Sync sync && sync.snapshot() != null;
    }

    /** Sender thread: writes the queued batches in order, streaming each snapshot, until none is left. */
    private void drain(Channel channel) {
        try {
            while (true) {
                List<ZabMessage> batch;
                synchronized (outgoing) {
                    Backlog waiting = outgoing.get(channel);
                    Waiting next = waiting == null ? null : waiting.batches.poll();
                    batch = next == null ? null : next.messages();
                    if (next != null) waiting.bytes -= next.bytes();
                    if (batch == null) {
                        if (outgoing.remove(channel) != null) {
                            streaming.decrementAndGet();
                        }
                        return;
                    }
                }
                for (ZabMessage message : batch) {
                    ChannelFuture written = channel.writeAndFlush(message);
                    if (carriesSnapshot(message)) {
                        streamChunks(channel, ((ZabMessage.Sync) message).snapshot(), written);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "server {0}: sending a snapshot over {1} failed ({2}); closing it, the follower "
                    + "will be synced again", myId, channel.remoteAddress(), e.toString());
            synchronized (outgoing) {
                if (outgoing.remove(channel) != null) {
                    streaming.decrementAndGet();
                }
            }
            channel.close();
        }
    }

    private void streamChunks(Channel channel, SnapshotData snapshot, ChannelFuture previous) throws IOException {
        long remaining = snapshot.size();
        try (InputStream in = snapshot.open()) {
            while (remaining > 0) {
                int length = (int) Math.min(chunkBytes, remaining);
                // A plain array of this thread's own, wrapped. The streams that arrived with other bytes (about 1 run
                // in 900 of QuorumTransportTest's 3 MB stream) were the receiver's doing (see onFrame); building the
                // chunk in a pooled buffer here is safe, but an array costs nothing more.
                byte[] chunk = new byte[4 + 1 + length];
                java.nio.ByteBuffer.wrap(chunk).putInt(1 + length).put(ZabCodec.SNAPSHOT_CHUNK);
                int filled = 0;
                while (filled < length) { // a stream may return fewer bytes than asked
                    int n = in.read(chunk, 5 + filled, length - filled);
                    if (n < 0) {
                        throw new IOException("the snapshot ended " + (remaining - filled) + " bytes early");
                    }
                    filled += n;
                }
                ByteBuf frame = io.netty.buffer.Unpooled.wrappedBuffer(chunk);
                // At most this chunk and the previous one are buffered: wait until the previous one is written out.
                awaitWritten(previous);
                previous = channel.writeAndFlush(frame);
                chunksSent.incrementAndGet();
                remaining -= length;
            }
        }
        awaitWritten(previous);
    }

    private static void awaitWritten(ChannelFuture write) throws IOException {
        write.awaitUninterruptibly();
        if (!write.isSuccess()) {
            throw new IOException("write failed", write.cause());
        }
    }

    // ---------------------------------------------------------------- receiving

    /** One connection's receiving side; its fields are the event loop's, except what the receiver thread notes. */
    final class Receiving {
        private final Channel channel;
        private final BiConsumer<Integer, ZabMessage> deliver;
        /** Tasks of this connection queued on the receiver thread: while any, messages are delivered there too. */
        private final AtomicInteger queued = new AtomicInteger();
        private final AtomicInteger queuedChunks = new AtomicInteger();
        /** The SYNC whose snapshot is arriving, and the bytes still to come; null when none (event loop). */
        private ZabMessage.Sync announced;
        private long remaining;
        /** Receiver thread: the file being written, and whether this connection's stream failed. */
        private Path file;
        private FileChannel out;
        private volatile boolean failed;

        Receiving(Channel channel, BiConsumer<Integer, ZabMessage> deliver) {
            this.channel = channel;
            this.deliver = deliver;
        }

        /**
         * Event loop: takes a frame from {@code peer} if it belongs to a snapshot stream, or a decoded message that
         * must be delivered behind one; true when it was taken.
         */
        boolean onFrame(int peer, ByteBuf frame) {
            boolean chunk = ZabCodec.isSnapshotChunk(frame);
            if (announced == null) {
                if (chunk) {
                    throw new CorruptedFrameException("a snapshot chunk without a SYNC announcing it");
                }
                return false;
            }
            if (!chunk) {
                throw new CorruptedFrameException("a frame inside a snapshot with " + remaining + " bytes to come");
            }
            int length = frame.readableBytes() - 1;
            if (length <= 0 || length > remaining) {
                throw new CorruptedFrameException("a snapshot chunk of " + length + " bytes with " + remaining
                        + " to come");
            }
            remaining -= length;
            // A copy, not a slice of the connection's read buffer, which the decoder goes on cumulating into while
            // the chunk waits for the disk thread: Netty 4.2's adaptive buffers write to a file through the one NIO
            // view they cache and reset it, so the event loop's writes behind the chunk landed at the buffer's start
            // (the streams that arrived with other bytes or stopped short; SnapshotChunkSharedBufferTest).
            ByteBuf bytes = io.netty.buffer.Unpooled.buffer(length);
            bytes.writeBytes(frame, frame.readerIndex() + 1, length);
            ZabMessage.Sync complete = remaining == 0 ? announced : null;
            if (complete != null) {
                announced = null;
            }
            if (queuedChunks.incrementAndGet() > QUEUED_CHUNKS_MAX) {
                channel.config().setAutoRead(false); // the disk is behind: stop reading until it catches up
            }
            submit(() -> {
                try {
                    writeChunk(bytes);
                } finally {
                    bytes.release();
                    if (queuedChunks.decrementAndGet() <= QUEUED_CHUNKS_MAX / 2) {
                        // Decided on the event loop, after the task that turned reading off: checked here, the
                        // receiver could drain every chunk between that task's count and its setAutoRead(false),
                        // see reading still on, and leave it off for good (the stream then hung; seen once in CI).
                        channel.eventLoop().execute(this::resumeReadingIfDrained);
                    }
                }
                if (complete != null) {
                    finish(peer, complete);
                }
            });
            return true;
        }

        /** Event loop: reading resumes once the disk has caught up with the chunks received. */
        private void resumeReadingIfDrained() {
            if (!channel.config().isAutoRead() && queuedChunks.get() <= QUEUED_CHUNKS_MAX / 2) {
                channel.config().setAutoRead(true);
            }
        }

        /** Event loop: a decoded message; returns true when it was taken (a snapshot announced, or queued behind). */
        boolean onMessage(int peer, ZabMessage message) {
            if (message instanceof ZabMessage.Sync sync && sync.snapshot() instanceof ZabCodec.AnnouncedSnapshot a) {
                announced = sync;
                remaining = a.size();
                submit(this::begin);
                if (remaining == 0) {
                    announced = null;
                    submit(() -> finish(peer, sync));
                }
                return true;
            }
            if (queued.get() == 0) {
                return false;
            }
            submit(() -> {
                if (!failed) {
                    deliver.accept(peer, message);
                }
            });
            return true;
        }

        /** Event loop: the connection closed; a partly received snapshot is deleted. */
        void closed() {
            announced = null;
            submit(() -> {
                failed = true;
                discard();
            });
        }

        private void submit(Runnable task) {
            queued.incrementAndGet();
            try {
                receiver.execute(() -> {
                    try {
                        task.run();
                    } finally {
                        queued.decrementAndGet();
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                queued.decrementAndGet(); // shutting down
            }
        }

        private void begin() {
            if (failed) {
                return;
            }
            try {
                discard(); // an earlier stream this connection never finished
                file = Files.createTempFile(incomingDir, INCOMING_PREFIX, INCOMING_SUFFIX);
                out = FileChannel.open(file, StandardOpenOption.WRITE);
            } catch (IOException e) {
                fail(e);
            }
        }

        private void writeChunk(ByteBuf bytes) {
            if (failed || out == null) {
                return;
            }
            try {
                while (bytes.isReadable()) {
                    bytes.readBytes(out, bytes.readableBytes());
                }
                chunksReceived.incrementAndGet();
            } catch (IOException e) {
                fail(e);
            }
        }

        private void finish(int peer, ZabMessage.Sync sync) {
            if (failed || out == null) {
                return;
            }
            try {
                out.close();
                out = null;
                ReceivedSnapshot received = new ReceivedSnapshot(file, sync.snapshot().size());
                file = null; // from here on Zab owns it: it is deleted once stored (SnapshotData.release)
                deliver.accept(peer, new ZabMessage.Sync(sync.session(), sync.seq(), sync.mode(), sync.truncateZxid(),
                        sync.snapshotZxid(), received, sync.entries()));
            } catch (IOException e) {
                fail(e);
            }
        }

        private void fail(IOException e) {
            failed = true;
            LOG.log(Level.WARNING, "server {0}: receiving a snapshot over {1} failed ({2}); closing the connection",
                    myId, channel.remoteAddress(), e.toString());
            discard();
            channel.close();
        }

        private void discard() {
            try {
                if (out != null) {
                    out.close();
                }
                if (file != null) {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                LOG.log(Level.WARNING, "server {0}: cannot remove the unfinished snapshot {1}: {2}", myId, file, e);
            }
            out = null;
            file = null;
        }
    }

    /** A snapshot received into a temporary file; deleted once Zab has stored its own copy. */
    private record ReceivedSnapshot(Path file, long size) implements SnapshotData {
        @Override
        public InputStream open() throws IOException {
            return new BufferedInputStream(Files.newInputStream(file), 64 << 10);
        }

        @Override
        public void release() {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot remove the received snapshot {0}: {1}", file, e);
            }
        }
    }

    @Override
    public void close() {
        sender.shutdownNow();
        receiver.shutdownNow();
        try {
            receiver.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
