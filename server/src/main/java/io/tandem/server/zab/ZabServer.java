package io.tandem.server.zab;

import io.tandem.storage.zk.Snapshot;
import io.tandem.storage.zk.SnapshotStore;
import io.tandem.storage.zk.TxnLog;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.channels.FileChannel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one {@link ZabStateMachine} for real: a single thread owns the machine, feeds it peer messages, submitted
 * writes and ticks every {@code tickTime} milliseconds, and executes each {@link Ready} in its documented order against
 * the {@link TxnLog}, the epoch files, a {@link SnapshotStore} and the {@link QuorumTransport}. Inputs that arrive
 * together are stepped before one Ready is taken, so many appends share one fsync (group commit).
 *
 * <p>The application (the ZooKeeper server) submits opaque transactions with {@link #submit(byte[])} from any thread
 * and receives committed ones through {@link Application#onCommit} on the Zab thread, strictly in zxid order.
 */
public final class ZabServer implements Closeable {
    private static final Logger LOG = System.getLogger(ZabServer.class.getName());

    /** Bound on inputs waiting for the Zab thread; peer messages beyond it are dropped (Zab recovers from loss). */
    public static final int INBOX_CAPACITY_MAX = 10_000;
    /** Inputs stepped per Ready: large enough to batch fsyncs, small enough to keep latency flat. */
    public static final int INPUTS_PER_READY_MAX = 1_000;

    /**
     * What Zab delivers to the replicated application. All calls come from the Zab thread, except the
     * {@link #onSnapshot} that restores the newest durable snapshot, which runs inside {@link ZabServer#start}.
     */
    public interface Application {
        /** A committed transaction; called in strictly increasing zxid order. */
        void onCommit(long zxid, byte[] txn);

        /** Replace the whole state with {@code snapshot} taken at {@code zxid} (at start, or a SNAP from the leader). */
        void onSnapshot(long zxid, byte[] snapshot);

        /**
         * On the leader: turns a write a follower forwarded into the transaction to propose, or null to refuse it. For
         * ZooKeeper this is where the prep step (ACL, version and path checks) runs against the leader's newest state.
         */
        default byte[] prepareForwarded(byte[] request) {
            return request;
        }

        /** Leadership changed; the server stops or starts taking writes accordingly. */
        default void onRoleChange(Role role, int leaderId, long epoch) {}
    }

    private record PeerMessage(int from, ZabMessage message) {}
    private record PeerDisconnected(int peer) {}

    private record SubmitWrite(byte[] txn) {}

    private record Compact(long zxid, byte[] snapshot) {}

    private final ZabStateMachine machine;
    private final Application application;
    private final TxnLog log;
    private final SnapshotStore snapshots;
    private final Path dataDir;
    private final QuorumTransport transport;
    private final long tickMillis;
    private final BlockingQueue<Object> inbox = new ArrayBlockingQueue<>(INBOX_CAPACITY_MAX);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Role role = Role.LOOKING;
    private volatile int leaderId = -1;
    private volatile long committedZxid;
    private volatile boolean serving;
    private long droppedPeerMessages;
    // Written by the Zab thread only, read by mntr: group-commit size (appends per log sync) and message batching.
    private volatile long statSyncs;
    private volatile long statAppends;
    private volatile long statCommits;
    private volatile long statMessages;
    private volatile long statSends;

    private ZabServer(ZabConfig config, long tickMillis, Path dataDir, Map<Integer, QuorumTransport.Peer> peers,
                      Application application) throws IOException, InterruptedException {
        this.application = application;
        this.tickMillis = tickMillis;
        this.dataDir = dataDir;
        Files.createDirectories(dataDir);
        this.log = TxnLog.open(dataDir.resolve("log"));
        this.snapshots = SnapshotStore.open(dataDir.resolve("zab-snapshots"));
        long acceptedEpoch = readEpoch("acceptedEpoch");
        long currentEpoch = readEpoch("currentEpoch");
        long snapshotZxid = 0;
        byte[] snapshot = null;
        Optional<Snapshot> latest = snapshots.latestValid();
        if (latest.isPresent()) {
            snapshotZxid = latest.get().zxid();
            try (DataInputStream in = latest.get().open()) {
                snapshot = in.readAllBytes();
            }
            application.onSnapshot(snapshotZxid, snapshot);
        }
        List<LogEntry> entries = new ArrayList<>();
        log.forEach(snapshotZxid, (zxid, txn) -> entries.add(new LogEntry(zxid, txn)));
        DurableState durable = new DurableState(acceptedEpoch, Math.min(currentEpoch, acceptedEpoch), snapshotZxid,
                snapshot, entries);
        // The start time orders this run's session ids after every earlier run's.
        this.machine = new ZabStateMachine(config, durable, System.currentTimeMillis());
        this.committedZxid = snapshotZxid;
        QuorumTransport started;
        try {
            started = new QuorumTransport(config.myId(), peers, new QuorumTransport.Inbound() {
                @Override
                public void onMessage(int from, ZabMessage message) {
                    onPeerMessage(from, message);
                }

                @Override
                public void onDisconnected(int peer) {
                    // Best effort: if the inbox is full the tick timeout still notices the silence.
                    inbox.offer(new PeerDisconnected(peer));
                }
            }).start();
        } catch (Throwable e) {
            log.close();
            throw e;
        }
        this.transport = started;
        this.thread = new Thread(this::run, "zab-" + config.myId());
        thread.setDaemon(true);
        thread.start();
        LOG.log(Level.INFO, "server {0}: zab started, acceptedEpoch {1}, currentEpoch {2}, log to {3}",
                config.myId(), acceptedEpoch, currentEpoch, Zxid.toString(log.lastZxid()));
    }

    /**
     * Starts a node. {@code settings} are zoo.cfg keys: {@code server.N} lines name the voters, {@code tickTime},
     * {@code initLimit} and {@code syncLimit} keep ZooKeeper's meaning.
     */
    public static ZabServer start(int myId, Map<String, String> settings, Path dataDir, Application application)
            throws IOException, InterruptedException {
        Map<Integer, QuorumTransport.Peer> peers = QuorumTransport.parsePeers(settings);
        int[] voters = peers.keySet().stream().mapToInt(Integer::intValue).toArray();
        int initLimit = Integer.parseInt(settings.getOrDefault("initLimit", "10").trim());
        int syncLimit = Integer.parseInt(settings.getOrDefault("syncLimit", "5").trim());
        long tickTime = Long.parseLong(settings.getOrDefault("tickTime", "2000").trim());
        if (tickTime <= 0) {
            throw new IllegalArgumentException("tickTime must be positive: " + tickTime);
        }
        ZabConfig config = new ZabConfig(myId, voters, initLimit, syncLimit, 1, 10_000);
        return new ZabServer(config, tickTime, dataDir, peers, application);
    }

    public int quorumPort() {
        return transport.boundPort();
    }

    public Role role() {
        return role;
    }

    public int leaderId() {
        return leaderId;
    }

    /** True when {@link #submit} can succeed: this node leads an established epoch or follows in broadcast. */
    public boolean isServing() {
        return serving;
    }

    public long committedZxid() {
        return committedZxid;
    }

    /** Counters since start: log fsyncs and the entries they covered, commits applied, messages and batched sends. */
    public record Stats(long logSyncs, long appends, long commits, long messages, long sends) {}

    public Stats stats() {
        return new Stats(statSyncs, statAppends, statCommits, statMessages, statSends);
    }

    /**
     * Offers a write for replication. False means it was not taken (the inbox is full, the node is stopping); true
     * means it was queued, and it is durable only once {@link Application#onCommit} reports it. A write offered while
     * the node is not serving is dropped on the Zab thread, so callers should check {@link #isServing()} and time out.
     */
    public boolean submit(byte[] txn) {
        return running && inbox.offer(new SubmitWrite(txn.clone()));
    }

    /**
     * The application wrote nothing itself: it hands Zab a snapshot of its state at an applied {@code zxid}, which Zab
     * stores durably and then uses to forget older log entries and to bring far-behind followers up to date.
     */
    public boolean compact(long zxid, byte[] snapshot) {
        return running && inbox.offer(new Compact(zxid, snapshot.clone()));
    }

    private void onPeerMessage(int from, ZabMessage message) {
        if (!inbox.offer(new PeerMessage(from, message))) {
            droppedPeerMessages++;
            if (Long.bitCount(droppedPeerMessages) == 1) { // log at 1, 2, 4, 8, ... drops
                LOG.log(Level.WARNING, "zab inbox full ({0}): {1} peer messages dropped so far", INBOX_CAPACITY_MAX,
                        droppedPeerMessages);
            }
        }
    }

    private void run() {
        long nextTick = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(tickMillis);
        try {
            while (running) {
                long waitNanos = nextTick - System.nanoTime();
                Object input = waitNanos > 0 ? inbox.poll(waitNanos, TimeUnit.NANOSECONDS) : inbox.poll();
                int stepped = 0;
                while (input != null) {
                    step(input);
                    if (++stepped >= INPUTS_PER_READY_MAX) {
                        break;
                    }
                    input = inbox.poll();
                }
                if (System.nanoTime() - nextTick >= 0) {
                    machine.tick();
                    nextTick += TimeUnit.MILLISECONDS.toNanos(tickMillis);
                }
                if (machine.hasReady()) {
                    execute(machine.ready());
                }
                publishState();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            // Durable state may be half-written; continuing could break Zab's promises, so the node stops here.
            LOG.log(Level.ERROR, "zab stopped: " + e, e);
            running = false;
            serving = false;
        }
    }

    private void step(Object input) throws IOException {
        if (input instanceof PeerMessage peer) {
            machine.receive(peer.from(), peer.message());
        } else if (input instanceof PeerDisconnected disconnected) {
            machine.peerDisconnected(disconnected.peer());
        } else if (input instanceof SubmitWrite write) {
            if (!machine.submit(write.txn())) {
                LOG.log(Level.DEBUG, "zab: write refused, not serving");
            }
        } else if (input instanceof Compact compact) {
            if (compact.zxid() > machine.snapshotZxid() && compact.zxid() <= machine.committedZxid()) {
                snapshots.write(compact.zxid(), out -> out.write(compact.snapshot()));
                machine.compact(compact.zxid(), compact.snapshot());
                snapshots.retain(2);
            }
        }
    }

    /** The Ready contract, step by step: durable state first, then messages, then the application. */
    private void execute(Ready ready) throws IOException {
        if (ready.snapshotToInstall() != null) {
            byte[] bytes = ready.snapshotToInstall().bytes();
            snapshots.write(ready.snapshotToInstall().zxid(), out -> out.write(bytes));
        }
        if (ready.truncateAfterZxid() != Ready.NONE) {
            log.truncateAfter(ready.truncateAfterZxid());
        }
        for (LogEntry entry : ready.appends()) {
            log.append(entry.zxid(), entry.txn());
        }
        if (ready.needsLogSync()) {
            log.sync();
            statSyncs++;
            statAppends += ready.appends().size();
        }
        statCommits += ready.commits().size();
        if (ready.acceptedEpoch() != Ready.NONE) {
            writeEpoch("acceptedEpoch", ready.acceptedEpoch());
        }
        if (ready.currentEpoch() != Ready.NONE) {
            writeEpoch("currentEpoch", ready.currentEpoch());
        }
        sendAll(ready.messages());
        if (ready.snapshotToInstall() != null) {
            application.onSnapshot(ready.snapshotToInstall().zxid(), ready.snapshotToInstall().bytes());
        }
        for (LogEntry entry : ready.commits()) {
            application.onCommit(entry.zxid(), entry.txn());
        }
        if (ready.purgeBeforeZxid() != Ready.NONE) {
            log.purgeBefore(ready.purgeBeforeZxid());
        }
        for (byte[] request : ready.forwardedRequests()) {
            byte[] txn = application.prepareForwarded(request);
            if (txn != null) {
                machine.submit(txn);
            }
        }
    }

    /** Sends each peer its messages in order, batched: one hand-off to the transport and one flush per peer. */
    private void sendAll(List<Ready.Outbound> messages) {
        if (messages.isEmpty()) {
            return;
        }
        statMessages += messages.size();
        Map<Integer, List<ZabMessage>> byPeer = new LinkedHashMap<>();
        for (Ready.Outbound outbound : messages) {
            byPeer.computeIfAbsent(outbound.to(), peer -> new ArrayList<>()).add(outbound.message());
        }
        for (Map.Entry<Integer, List<ZabMessage>> peer : byPeer.entrySet()) {
            transport.send(peer.getKey(), peer.getValue());
            statSends++;
        }
    }

    private void publishState() {
        Role newRole = machine.role();
        int newLeader = machine.leaderId();
        boolean newServing = machine.isServing();
        committedZxid = machine.committedZxid();
        if (newRole != role || newLeader != leaderId || newServing != serving) {
            role = newRole;
            leaderId = newLeader;
            serving = newServing;
            LOG.log(Level.INFO, "server {0}: {1}", machine.myId(), machine);
            application.onRoleChange(newRole, newLeader, machine.epoch());
        }
    }

    /** Epoch files hold the number as text, like ZooKeeper's; written to a temp file, fsynced, then renamed. */
    private void writeEpoch(String name, long value) throws IOException {
        Path target = dataDir.resolve(name);
        Path temp = dataDir.resolve(name + ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap((value + "\n").getBytes(StandardCharsets.US_ASCII)));
            channel.force(true);
        }
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(dataDir);
    }

    /** Makes the rename itself durable (Linux allows fsync on a directory opened for reading). */
    private static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            if (!System.getProperty("os.name", "").toLowerCase().contains("win")) {
                throw e;
            }
        }
    }

    private long readEpoch(String name) throws IOException {
        Path file = dataDir.resolve(name);
        if (!Files.exists(file)) {
            return 0;
        }
        String text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold an epoch: '" + text + "'", e);
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        thread.interrupt();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        transport.close();
        log.close();
    }
}
