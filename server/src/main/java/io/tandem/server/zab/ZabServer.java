package io.tandem.server.zab;

import io.tandem.storage.zk.CorruptLogException;
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
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
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
 *
 * <p>Damage found at start (a log record or file header failing its checksum, a newest snapshot that does not verify,
 * an unreadable currentEpoch, a hole between the snapshot and the log) does not stop an ensemble member: it moves the
 * damaged files to {@code corrupt-<time>/} (never deleting them), writes the durable {@value #RECOVERING_MARKER} marker
 * and starts with an empty history, so that it counts in no quorum and serves nothing until a leader has re-synced it
 * (see {@link ZabStateMachine}). acceptedEpoch is kept: it is the member's promise to leaders, and a damaged one cannot
 * be rebuilt safely, so that, like any damage on a single server (nobody to re-sync from), refuses to start.
 */
public final class ZabServer implements Closeable {
    private static final Logger LOG = System.getLogger(ZabServer.class.getName());

    /** Bound on inputs waiting for the Zab thread; peer messages beyond it are dropped (Zab recovers from loss). */
    public static final int INBOX_CAPACITY_MAX = 10_000;
    /** Inputs stepped per Ready: large enough to batch fsyncs, small enough to keep latency flat. */
    public static final int INPUTS_PER_READY_MAX = 1_000;
    /** Apache ZooKeeper's finalizeWait: how long a quorum-backed vote waits for a better one before it is decided. */
    static final long FINALIZE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** Present while this member's history is set aside and not yet re-synced from a leader. */
    public static final String RECOVERING_MARKER = "recovering";
    static final String LOG_DIR = "log";
    static final String SNAPSHOT_DIR = "zab-snapshots";
    static final String ACCEPTED_EPOCH = "acceptedEpoch";
    static final String CURRENT_EPOCH = "currentEpoch";
    private static final DateTimeFormatter ASIDE_TIME =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

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
    private record PeerConnected(int peer) {}

    private record SubmitWrite(byte[] txn) {}

    private record Compact(long zxid, byte[] snapshot) {}

    private final ZabStateMachine machine;
    private final Application application;
    private TxnLog log;
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
                      QuorumAuth quorumAuth, QuorumTls quorumTls, Application application) throws IOException, InterruptedException {
        this.application = application;
        this.tickMillis = tickMillis;
        this.dataDir = dataDir;
        Files.createDirectories(dataDir);
        this.snapshots = SnapshotStore.open(dataDir.resolve(SNAPSHOT_DIR));
        long acceptedEpoch = readAcceptedEpoch();
        Path marker = dataDir.resolve(RECOVERING_MARKER);
        Loaded loaded = null;
        String damage;
        if (Files.exists(marker)) {
            damage = "a re-sync from the leader after earlier damage had not finished (" + marker + " is present)";
        } else {
            Loaded[] holder = new Loaded[1];
            damage = load(acceptedEpoch, holder);
            loaded = holder[0];
        }
        if (damage != null) {
            if (config.voters().length == 1 && config.isVoter(config.myId())) {
                throw new IOException("Zab data in " + dataDir + " is damaged: " + damage + ". This server is the "
                        + "only voter, so no other member holds a copy to re-sync from; it refuses to start rather "
                        + "than serve with transactions missing. Restore " + dataDir + " from a backup, or move it "
                        + "aside to start with empty data.");
            }
            boolean resumed = Files.exists(marker);
            Path aside = setAside(damage);
            LOG.log(Level.WARNING, "server {0}: {1}: {2}. {3}; this member starts with an empty history and is "
                    + "recovering: it serves no clients and counts in no election or quorum until a leader has "
                    + "re-synced it", config.myId(), resumed ? "still recovering" : "Zab data damaged", damage,
                    aside == null ? "Nothing to set aside"
                            : (resumed ? "The unfinished re-sync is kept in " : "The damaged files are kept in ")
                                    + aside);
            this.log = TxnLog.open(dataDir.resolve(LOG_DIR));
            loaded = new Loaded(DurableState.recovering(acceptedEpoch));
        } else {
            this.log = loaded.log;
        }
        DurableState durable = loaded.durable;
        long snapshotZxid = durable.snapshotZxid();
        long currentEpoch = durable.currentEpoch();
        if (durable.snapshot() != null) {
            application.onSnapshot(snapshotZxid, durable.snapshot());
        }
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

                @Override
                public void onConnected(int peer) {
                    inbox.offer(new PeerConnected(peer)); // best effort too: the next tick resends anyway
                }
            }, QuorumTransport.FRAME_BYTES_MAX_DEFAULT, quorumAuth, quorumTls).start();
        } catch (Throwable e) {
            log.close();
            throw e;
        }
        this.transport = started;
        this.thread = new Thread(this::run, "zab-" + config.myId());
        thread.setDaemon(true);
        thread.start();
        LOG.log(Level.INFO, "server {0}: zab started, acceptedEpoch {1}, currentEpoch {2}, log to {3}{4}",
                config.myId(), acceptedEpoch, currentEpoch, Zxid.toString(log.lastZxid()),
                durable.recovering() ? ", recovering" : "");
    }

    /** What {@link #load} read: the state for the machine and the open log. */
    private static final class Loaded {
        final DurableState durable;
        final TxnLog log;

        Loaded(DurableState durable) {
            this(durable, null);
        }

        Loaded(DurableState durable, TxnLog log) {
            this.durable = durable;
            this.log = log;
        }
    }

    /**
     * Reads the log, the newest snapshot and currentEpoch, checking each; returns null with {@code result[0]} set, or
     * a description of the first damage found (file and offset) with nothing left open.
     */
    private String load(long acceptedEpoch, Loaded[] result) throws IOException {
        TxnLog opened;
        try {
            opened = TxnLog.open(dataDir.resolve(LOG_DIR));
        } catch (CorruptLogException e) {
            return describe(e);
        }
        try {
            long snapshotZxid = 0;
            byte[] snapshot = null;
            List<Snapshot> all = snapshots.newestFirst();
            if (!all.isEmpty()) {
                Snapshot newest = all.get(0);
                // An older snapshot is no substitute: the log may have been purged up to the newest one.
                if (!snapshots.verifies(newest)) {
                    opened.close();
                    return "snapshot " + newest.file() + " (" + Files.size(newest.file())
                            + " bytes): its checksum or framing does not verify";
                }
                snapshotZxid = newest.zxid();
                try (DataInputStream in = newest.open()) {
                    snapshot = in.readAllBytes();
                }
            }
            List<LogEntry> entries = new ArrayList<>();
            try {
                opened.forEach(snapshotZxid, (zxid, txn) -> entries.add(new LogEntry(zxid, txn)));
            } catch (CorruptLogException e) {
                opened.close();
                return describe(e);
            }
            String gap = DurableState.firstGap(snapshotZxid, entries);
            if (gap != null) {
                opened.close();
                return "a hole between snapshot " + Zxid.toString(snapshotZxid) + " and the log in "
                        + dataDir.resolve(LOG_DIR) + ": " + gap;
            }
            long currentEpoch;
            try {
                currentEpoch = readEpoch(CURRENT_EPOCH);
            } catch (IOException e) {
                opened.close();
                return e.getMessage();
            }
            if (currentEpoch > acceptedEpoch) {
                // readAcceptedEpoch refuses this already; kept so the invariant never reaches the machine.
                opened.close();
                return dataDir.resolve(CURRENT_EPOCH) + " holds epoch " + currentEpoch + ", above acceptedEpoch "
                        + acceptedEpoch;
            }
            result[0] = new Loaded(new DurableState(acceptedEpoch, currentEpoch, snapshotZxid, snapshot, entries),
                    opened);
            return null;
        } catch (IOException | RuntimeException e) {
            opened.close();
            throw e;
        }
    }

    private static String describe(CorruptLogException e) {
        return "transaction log " + e.file() + " at byte " + e.position() + ": "
                + e.getMessage().substring(e.getMessage().lastIndexOf(": ") + 2);
    }

    /**
     * Makes the member start over: first the durable marker (a crash from here on restarts recovering), then the
     * history moves to a fresh {@code corrupt-<time>} directory. acceptedEpoch stays (a copy goes along for the
     * operator). Returns that directory, or null when there was nothing to move.
     */
    private Path setAside(String damage) throws IOException {
        Path marker = dataDir.resolve(RECOVERING_MARKER);
        if (!Files.exists(marker)) {
            writeDurably(RECOVERING_MARKER, "recovering since " + Instant.now() + ": " + damage + "\n");
        }
        List<String> toMove = new ArrayList<>();
        for (String name : new String[] {LOG_DIR, SNAPSHOT_DIR, CURRENT_EPOCH, CURRENT_EPOCH + ".tmp",
                ACCEPTED_EPOCH + ".tmp"}) {
            if (Files.exists(dataDir.resolve(name)) && !isEmptyDirectory(dataDir.resolve(name))) {
                toMove.add(name);
            }
        }
        if (toMove.isEmpty()) {
            return null;
        }
        String stamp = ASIDE_TIME.format(Instant.now());
        Path aside = dataDir.resolve("corrupt-" + stamp);
        for (int i = 2; Files.exists(aside); i++) {
            aside = dataDir.resolve("corrupt-" + stamp + "-" + i);
        }
        Files.createDirectory(aside);
        for (String name : toMove) {
            Files.move(dataDir.resolve(name), aside.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        }
        if (Files.exists(dataDir.resolve(ACCEPTED_EPOCH))) {
            Files.copy(dataDir.resolve(ACCEPTED_EPOCH), aside.resolve(ACCEPTED_EPOCH));
        }
        Files.writeString(aside.resolve("README"), "Zab data set aside at " + Instant.now() + " because of: "
                + damage + "\nThe member re-synced from the leader; this copy is kept for inspection only.\n",
                StandardCharsets.UTF_8);
        fsyncDirectory(aside);
        fsyncDirectory(dataDir);
        Files.createDirectories(dataDir.resolve(SNAPSHOT_DIR));
        return aside;
    }

    private static boolean isEmptyDirectory(Path path) throws IOException {
        if (!Files.isDirectory(path)) {
            return false;
        }
        try (var entries = Files.list(path)) {
            return entries.findAny().isEmpty();
        }
    }

    /**
     * acceptedEpoch is this member's promise never to follow an older epoch. Without it, an older leader could use this
     * member to commit behind a newer epoch's back, and nothing the other members hold can rebuild it safely: so damage
     * here refuses to start, and says what an operator can do.
     */
    private long readAcceptedEpoch() throws IOException {
        Path file = dataDir.resolve(ACCEPTED_EPOCH);
        String advice = ". acceptedEpoch is this member's promise to leaders and cannot be rebuilt automatically, so "
                + "the member refuses to start. Write into " + file + " the highest acceptedEpoch found in the zab "
                + "directory of any other member and start it again (damaged history, if any, is then set aside and "
                + "re-synced from the leader).";
        long accepted;
        try {
            accepted = readEpoch(ACCEPTED_EPOCH);
        } catch (IOException e) {
            throw new IOException(e.getMessage() + advice, e);
        }
        // currentEpoch is only ever written after acceptedEpoch and never above it: if it is, or if it exists without
        // acceptedEpoch, either file may be the damaged one, and a too-low promise must not be trusted.
        if (Files.exists(dataDir.resolve(CURRENT_EPOCH))) {
            long current;
            try {
                current = readEpoch(CURRENT_EPOCH);
            } catch (IOException e) {
                return accepted; // a damaged currentEpoch only costs the history: the member recovers
            }
            if (!Files.exists(file)) {
                throw new IOException(file + " is missing while " + CURRENT_EPOCH + " holds " + current + advice);
            }
            if (current > accepted) {
                throw new IOException(file + " holds " + accepted + ", below " + CURRENT_EPOCH + " " + current
                        + ": one of them is damaged" + advice);
            }
        }
        return accepted;
    }

    /**
     * Starts a node. {@code settings} are zoo.cfg keys: {@code server.N} lines name the voters, {@code tickTime},
     * {@code initLimit} and {@code syncLimit} keep ZooKeeper's meaning.
     */
    public static ZabServer start(int myId, Map<String, String> settings, Path dataDir, Application application)
            throws IOException, InterruptedException {
        Map<Integer, QuorumTransport.Peer> peers = QuorumTransport.parsePeers(settings);
        int[] voters = peers.values().stream().filter(peer -> !peer.observer()).mapToInt(QuorumTransport.Peer::id)
                .toArray();
        int[] observers = peers.values().stream().filter(QuorumTransport.Peer::observer)
                .mapToInt(QuorumTransport.Peer::id).toArray();
        int initLimit = Integer.parseInt(settings.getOrDefault("initLimit", "10").trim());
        int syncLimit = Integer.parseInt(settings.getOrDefault("syncLimit", "5").trim());
        long tickTime = Long.parseLong(settings.getOrDefault("tickTime", "2000").trim());
        if (tickTime <= 0) {
            throw new IllegalArgumentException("tickTime must be positive: " + tickTime);
        }
        ZabConfig config = new ZabConfig(myId, voters, observers, initLimit, syncLimit, 1, 10_000);
        // Read before anything starts: a missing JAAS section refuses to start instead of leaving peers unchecked.
        QuorumAuth quorumAuth = QuorumAuth.from(settings);
        QuorumTls quorumTls = QuorumTls.from(settings);
        return new ZabServer(config, tickTime, dataDir, peers, quorumAuth, quorumTls, application);
    }

    public int quorumPort() {
        return transport.boundPort();
    }

    public Role role() {
        return role;
    }

    /** True when this member is an observer ({@code server.N=...:observer}): it follows but never votes or leads. */
    public boolean isObserver() {
        return machine.isObserver();
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

    /**
     * True while this member's Zab data is set aside after damage and a leader has not yet re-synced it: exactly while
     * the durable marker exists (written before the data is moved aside, removed once the re-synced state is durable).
     */
    public boolean isRecovering() {
        return Files.exists(dataDir.resolve(RECOVERING_MARKER));
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
        long finalizeWait = -1;
        long finalizeAt = 0;
        try {
            while (running) {
                long wakeAt = finalizeWait >= 0 && finalizeAt - nextTick < 0 ? finalizeAt : nextTick;
                long waitNanos = wakeAt - System.nanoTime();
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
                // A quorum agrees on a vote: decide after Apache's finalize wait unless a better vote arrives first.
                if (machine.finalizeWait() != finalizeWait) {
                    finalizeWait = machine.finalizeWait();
                    finalizeAt = System.nanoTime() + FINALIZE_WAIT_NANOS;
                } else if (finalizeWait >= 0 && System.nanoTime() - finalizeAt >= 0) {
                    machine.finalizeElection(finalizeWait);
                    finalizeWait = machine.finalizeWait();
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
        } else if (input instanceof PeerConnected connected) {
            machine.peerConnected(connected.peer());
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
        if (ready.recoveryComplete()) {
            // The synced history and its epoch are durable: only now may the ack that makes this member count leave.
            Files.deleteIfExists(dataDir.resolve(RECOVERING_MARKER));
            fsyncDirectory(dataDir);
            LOG.log(Level.INFO, "server {0}: re-synced from leader {1} up to {2} after damage to its Zab data; no "
                    + "longer recovering", machine.myId(), machine.leaderId(), Zxid.toString(machine.lastZxid()));
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

    /** Epoch files hold the number as text, like ZooKeeper's. */
    private void writeEpoch(String name, long value) throws IOException {
        writeDurably(name, value + "\n");
    }

    /** Replaces file {@code name} in the data dir atomically: a temp file, fsynced, renamed, the rename fsynced. */
    private void writeDurably(String name, String text) throws IOException {
        Path temp = dataDir.resolve(name + ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
            channel.force(true);
        }
        Files.move(temp, dataDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
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
        String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
        String text = raw.strip();
        try {
            // Exactly what writeEpoch writes, give or take white space: any other byte (a NUL, a sign) is damage.
            if (!raw.matches("\\s*[0-9]{1,19}\\s*")) {
                throw new NumberFormatException("not a decimal number");
            }
            long epoch = Long.parseLong(text);
            if (epoch < 0 || epoch > Zxid.EPOCH_MAX) {
                throw new NumberFormatException("out of range");
            }
            return epoch;
        } catch (NumberFormatException e) {
            throw new IOException(file + " does not hold an epoch: '" + text.replaceAll("[^\\x20-\\x7e]", "?")
                    + "'", e);
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
