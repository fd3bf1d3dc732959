package io.tandem.server.zab;

import io.tandem.storage.zk.SnapshotBody;
import io.tandem.storage.zk.TxnLog;
import java.io.Closeable;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import io.tandem.storage.zk.DataDirs;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs one {@link ZabStateMachine} for real: a single thread owns a {@link ZabDriver} over the member's files
 * ({@link FileZabDisk}), the {@link QuorumTransport} and the system clock; it feeds the driver peer messages, submitted
 * writes and connection events, and lets it tick every {@code tickTime} milliseconds. Inputs that arrive together are
 * stepped before one {@link ZabDriver#advance}, so many appends share one fsync (group commit). The simulator runs the
 * same {@link ZabDriver} over simulated disk, network and clock.
 *
 * <p>The application (the ZooKeeper server) submits opaque transactions with {@link #submit(byte[])} from any thread
 * and receives committed ones through {@link Application#onCommit} on the Zab thread, strictly in zxid order.
 *
 * <p>Damage found at start is handled by {@link FileZabDisk#open}: an ensemble member sets the damaged history aside and
 * starts recovering; a damaged acceptedEpoch, or any damage on a single voter, refuses to start.
 */
public final class ZabServer implements Closeable {
    private static final Logger LOG = System.getLogger(ZabServer.class.getName());

    /** Bound on inputs waiting for the Zab thread; peer messages beyond it are dropped (Zab recovers from loss). */
    public static final int INBOX_CAPACITY_MAX = 10_000;
    /** Inputs stepped per Ready: large enough to batch fsyncs, small enough to keep latency flat. */
    public static final int INPUTS_PER_READY_MAX = 1_000;
    /** Apache ZooKeeper's finalizeWait: how long a quorum-backed vote waits for a better one before it is decided. */
    static final long FINALIZE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** Where a SNAP's snapshot is received, in chunks, until it is stored in the snapshot store. */
    static final String SNAPSHOT_INCOMING_DIR = "snapshot-incoming";

    /** Present while this member's history is set aside and not yet re-synced from a leader. */
    public static final String RECOVERING_MARKER = FileZabDisk.RECOVERING_MARKER;

    /**
     * What Zab delivers to the replicated application. All calls come from the Zab thread, except the
     * {@link #onSnapshot} that restores the newest durable snapshot, which runs inside {@link ZabServer#start}.
     */
    public interface Application {
        /** A committed transaction; called in strictly increasing zxid order. */
        void onCommit(long zxid, byte[] txn);

        /**
         * Replace the whole state with {@code snapshot} taken at {@code zxid} (at start, or a SNAP from the leader); it
         * is read as a stream, since it may be hundreds of MB.
         */
        void onSnapshot(long zxid, SnapshotData snapshot);

        /**
         * On the leader: turns a write a follower forwarded into the transaction to propose, or null to refuse it. For
         * ZooKeeper this is where the prep step (ACL, version and path checks) runs against the leader's newest state.
         */
        default byte[] prepareForwarded(byte[] request) {
            return request;
        }

        /** Leadership changed; the server stops or starts taking writes accordingly. */
        default void onRoleChange(Role role, int leaderId, long epoch) {}

        /**
         * How Zab tells a reconfig transaction and its new members from the others (the transactions are the
         * application's bytes): Zab counts the joint quorum for it and activates it as it commits.
         */
        default MembershipReader membershipReader() {
            return txn -> null;
        }

        /**
         * Zab adopted a newer committed configuration from a peer's notification (see {@link Ready#configAdopted()}):
         * the members (and the application's text of them) at {@code version}. The synchronization that follows brings
         * the reconfig itself (or a snapshot holding it) to the application as usual.
         */
        default void onConfigAdopted(long version, Members members) {}
    }

    private record PeerMessage(int from, ZabMessage message) {}
    private record PeerDisconnected(int peer) {}
    private record PeerConnected(int peer) {}

    private record SubmitWrite(byte[] txn) {}

    private record Compact(long zxid, SnapshotData snapshot) {}

    private record ChangeMembers(long zxid, Map<Integer, QuorumTransport.Peer> members) {}

    private final ZabStateMachine machine;
    private final ZabDriver driver;
    private final Application application;
    private final FileZabDisk disk;
    private final QuorumTransport transport;
    private final BlockingQueue<Object> inbox = new ArrayBlockingQueue<>(INBOX_CAPACITY_MAX);
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Role role = Role.LOOKING;
    private volatile int leaderId = -1;
    private volatile long committedZxid;
    private volatile boolean serving;
    /** The transport dials every member ({@link QuorumTransport#asStranger}): a joiner no configuration names. */
    private boolean dialsAsStranger;
    /** The machine follows as a joiner no configuration names yet ({@link ZabStateMachine#isJoining}). */
    private volatile boolean joining;
    /** On an established leader: it and the learners synced with it ({@link ZabStateMachine#syncedMembers}). */
    private volatile int[] syncedMembers = new int[0];
    /** On an established leader: its leadership's proposal sizes ({@link ZabStateMachine#proposalSizes}), else null. */
    private volatile ProposalSizes proposalSizes;
    /** When this member last became an established leader (0 while it is not one): Apache's leader_uptime. */
    private volatile long leadingSinceMillis;
    private long droppedPeerMessages;
    /** Apache's per-learner connection figures (the observers admin command). */
    private final LearnerFigures learnerFigures = new LearnerFigures(this::lastProposedZxid);

    private ZabServer(ZabConfig config, long tickMillis, DataDirs dirs, long preAllocBytes,
                      Map<Integer, QuorumTransport.Peer> peers,
                      QuorumAuth quorumAuth, QuorumTls quorumTls, Application application) throws IOException, InterruptedException {
        this.application = application;
        this.disk = FileZabDisk.open(config, dirs, preAllocBytes);
        DurableState durable = disk.loaded();
        if (durable.snapshot() != null) {
            application.onSnapshot(durable.snapshotZxid(), durable.snapshot());
        }
        // The start time orders this run's session ids after every earlier run's.
        this.machine = new ZabStateMachine(config, durable, System.currentTimeMillis());
        machine.readMembersWith(application.membershipReader());
        this.committedZxid = durable.snapshotZxid();
        QuorumTransport started;
        try {
            started = new QuorumTransport(config.myId(), peers, new QuorumTransport.Inbound() {
                @Override
                public void onMessage(int from, ZabMessage message) {
                    learnerFigures.received(from, message);
                    onPeerMessage(from, message);
                }

                @Override
                public void onDisconnected(int peer) {
                    learnerFigures.disconnected(peer);
                    // Best effort: if the inbox is full the tick timeout still notices the silence.
                    inbox.offer(new PeerDisconnected(peer));
                }

                @Override
                public void onConnected(int peer) {
                    learnerFigures.connected(peer);
                    inbox.offer(new PeerConnected(peer)); // best effort too: the next tick resends anyway
                }
            }, QuorumTransport.FRAME_BYTES_MAX_DEFAULT, quorumAuth, quorumTls)
                    .snapshotStreams(dirs.dataDir().resolve(SNAPSHOT_INCOMING_DIR), SnapshotStreams.configuredChunkBytes())
                    .start();
        } catch (Throwable e) {
            disk.close();
            throw e;
        }
        this.transport = started;
        this.driver = new ZabDriver(machine, disk, learnerFigures.counting(transport), ZabClock.SYSTEM, application,
                TimeUnit.MILLISECONDS.toNanos(tickMillis), FINALIZE_WAIT_NANOS);
        this.thread = new Thread(this::run, "zab-" + config.myId());
        thread.setDaemon(true);
        thread.start();
        LOG.log(Level.INFO, "server {0}: zab started, acceptedEpoch {1}, currentEpoch {2}, log to {3}{4}",
                config.myId(), durable.acceptedEpoch(), durable.currentEpoch(), Zxid.toString(disk.lastZxid()),
                durable.recovering() ? ", recovering" : "");
    }

    /**
     * Starts a node. {@code settings} are zoo.cfg keys: {@code server.N} lines name the voters, {@code tickTime},
     * {@code initLimit}, {@code syncLimit} and {@code preAllocSize} (the log's preallocation block, KiB) keep
     * ZooKeeper's meaning.
     */
    public static ZabServer start(int myId, Map<String, String> settings, Path dataDir, Application application)
            throws IOException, InterruptedException {
        return start(myId, settings, DataDirs.of(dataDir), application);
    }

    /** As {@link #start(int, Map, Path, Application)}, the log under {@code dirs}' data log directory. */
    public static ZabServer start(int myId, Map<String, String> settings, DataDirs dirs, Application application)
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
        long preAllocBytes = TxnLog.preAllocBytes(settings.get(TxnLog.PREALLOC_KEY));
        return new ZabServer(config, tickTime, dirs, preAllocBytes, peers, quorumAuth, quorumTls, application);
    }

    /** Cuts quorum links for fault injection ({@link QuorumFaults}); {@link QuorumFaults#NONE} heals them. */
    public void faults(QuorumFaults faults) {
        transport.faults(faults);
    }

    public int quorumPort() {
        return transport.boundPort();
    }

    public Role role() {
        return role;
    }

    /**
     * True when this member is an observer ({@code server.N=...:observer}): it follows but never votes or leads. A
     * joiner not named yet is not one: Apache's non-voting follower is a Follower, and says so ({@code srvr}).
     */
    public boolean isObserver() {
        return machine.isObserver() && !machine.isJoining();
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
        return disk.isRecovering();
    }

    /** Counters since start: log fsyncs and the entries they covered, commits applied, messages and batched sends. */
    public record Stats(long logSyncs, long appends, long commits, long messages, long sends) {
        /**
         * Tandem's own figures, published by the metrics endpoint only (Apache's mntr has no such keys, and mntr prints
         * only Apache's): Zab's log fsyncs and the entries they covered, commits, messages and per-peer batches
         * ({@code stats} null before Zab runs: the fsync counters read 0, the rest is left out).
         */
        public static void report(Stats stats, java.util.function.BiConsumer<String, Object> line) {
            line.accept("zk_log_syncs", stats == null ? 0 : stats.logSyncs());
            line.accept("zk_log_synced_txns", stats == null ? 0 : stats.appends());
            if (stats != null) {
                line.accept("zk_zab_commits", stats.commits());
                line.accept("zk_zab_messages", stats.messages());
                line.accept("zk_zab_message_batches", stats.sends());
            }
        }
    }

    /** mntr's figures about this member's log, under Apache's names ({@link FileZabDisk#logStats}). Any thread. */
    public LogSyncStats logStats() {
        return disk.logStats();
    }

    /** mntr's broadcast counters under Apache's names ({@link QuorumFigures}). Any thread. */
    public QuorumFigures quorumFigures() {
        return driver.quorumFigures;
    }

    public Stats stats() {
        return driver.stats();
    }

    /** See {@link ZabDriver#observeCommitLatency}: called on the Zab thread, so it must be cheap and never block. */
    public void observeCommitLatency(java.util.function.LongConsumer observer) {
        driver.observeCommitLatency(observer);
    }

    /** Snapshot chunks this member sent (as a leader syncing followers by SNAP) and received, since start. */
    public long snapshotChunksSent() {
        return transport.snapshotChunksSent();
    }

    public long snapshotChunksReceived() {
        return transport.snapshotChunksReceived();
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
     * Writes a snapshot of the application's state at an applied {@code zxid} into this member's snapshot store, on
     * the caller's thread (the application's snapshot thread: the Zab thread goes on meanwhile). The result is handed
     * to {@link #compact}.
     */
    public SnapshotData writeSnapshot(long zxid, SnapshotBody body) throws IOException {
        return disk.writeSnapshot(zxid, body);
    }

    /**
     * Hands Zab a snapshot of the application's state at an applied {@code zxid} (usually from {@link #writeSnapshot},
     * else Zab stores it durably first), which it then uses to forget older log entries and to bring far-behind
     * followers up to date. False when the inbox is full or the node is stopping: the next snapshot will do.
     */
    public boolean compact(long zxid, SnapshotData snapshot) {
        return running && inbox.offer(new Compact(zxid, snapshot));
    }

    /**
     * The application committed and applied a reconfig whose members are {@code members} ({@code server.N} lines as
     * peers): Zab and the transport take it on the Zab thread, in that order (a joining member's hello is accepted
     * only once the machine takes its messages). {@code zxid} is the zxid the configuration was committed at (or its
     * version): the machine ignores one older than it activated itself ({@link ZabStateMachine#changeMembers}).
     * When this member is no longer named it follows on as a joiner (Apache's non-voting follower), its transport
     * dialling every member ({@link QuorumTransport#asStranger}). False when the inbox is full or the node is
     * stopping: the caller offers it again.
     */
    public boolean changeMembers(long zxid, Map<Integer, QuorumTransport.Peer> members) {
        return running && inbox.offer(new ChangeMembers(zxid, Map.copyOf(members)));
    }

    /**
     * On an established leader: Apache's LearnerHandler figures of each observer synced with it (its
     * getObservingLearnersInfo); null on any other member, which has no learners.
     */
    public java.util.List<Map<String, Object>> syncedObservers() {
        return role == Role.LEADING && serving ? learnerFigures.syncedObservers(syncedMembers, transport) : null;
    }

    /**
     * On an established leader, Apache's leader lines of mntr ({@link LearnerFigures#reportLeader}); {@code
     * pendingSyncs} is the application's count of the sync requests it proposed that wait for a quorum's commit (Zab
     * carries them as any other proposal, so only the application can tell them apart).
     */
    public void reportLeader(int pendingSyncs, java.util.function.BiConsumer<String, Object> line) {
        long since = leadingSinceMillis;
        ProposalSizes sizes = proposalSizes;
        if (role == Role.LEADING && serving && since != 0 && sizes != null) {
            learnerFigures.reportLeader(syncedMembers, transport, since, pendingSyncs, sizes, line);
        }
    }

    /**
     * On an established leader: its leadership's proposal sizes (Apache's Leader.getProposalStats, what srvr prints
     * and the AdminServer's {@code proposal_stats}); null on any other member.
     */
    public ProposalSizes proposalSizes() {
        return proposalSizes;
    }

    /** Apache's resetObserverConnectionStats, on a leader: its observers' counters start over. */
    public void resetObserverStats() {
        if (role == Role.LEADING) learnerFigures.resetObservers(transport);
    }

    /** Zab thread only (see {@link LearnerFigures}): the machine is not thread-safe. */
    private long lastProposedZxid() {
        return machine.lastZxid();
    }

    /** Whether {@code id} is this established leader or a learner synced with it. */
    public boolean isSyncedWithLeader(int id) {
        for (int member : syncedMembers) {
            if (member == id) {
                return true;
            }
        }
        return false;
    }

    /** True while this member follows as a joiner no configuration names yet (Apache's non-voting follower). */
    public boolean isJoining() {
        return joining;
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
        try {
            while (running) {
                long waitNanos = driver.nextWakeNanos() - System.nanoTime();
                Object input = waitNanos > 0 ? inbox.poll(waitNanos, TimeUnit.NANOSECONDS) : inbox.poll();
                int stepped = 0;
                while (input != null) {
                    step(input);
                    if (++stepped >= INPUTS_PER_READY_MAX) {
                        break;
                    }
                    input = inbox.poll();
                }
                driver.advance();
                followJoining();
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
            driver.receive(peer.from(), peer.message());
        } else if (input instanceof PeerDisconnected disconnected) {
            driver.peerDisconnected(disconnected.peer());
        } else if (input instanceof PeerConnected connected) {
            driver.peerConnected(connected.peer());
        } else if (input instanceof SubmitWrite write) {
            if (!driver.submit(write.txn())) {
                LOG.log(Level.DEBUG, "zab: write refused, not serving");
            }
        } else if (input instanceof Compact compact) {
            driver.compact(compact.zxid(), compact.snapshot());
        } else if (input instanceof ChangeMembers change) {
            int[] voters = change.members().values().stream().filter(peer -> !peer.observer())
                    .mapToInt(QuorumTransport.Peer::id).sorted().toArray();
            int[] observers = change.members().values().stream().filter(QuorumTransport.Peer::observer)
                    .mapToInt(QuorumTransport.Peer::id).sorted().toArray();
            driver.changeMembers(change.zxid(), voters, observers);
            transport.changeMembers(change.members());
            followJoining();
        }
    }

    /** The transport dials as a stranger while the machine is a joiner no configuration names, as a member once named. */
    private void followJoining() {
        joining = machine.isJoining();
        if (joining != dialsAsStranger) {
            dialsAsStranger = joining;
            transport.asStranger(joining);
        }
    }

    private void publishState() {
        Role newRole = machine.role();
        int newLeader = machine.leaderId();
        boolean newServing = machine.isServing();
        committedZxid = machine.committedZxid();
        syncedMembers = machine.syncedMembers();
        proposalSizes = machine.proposalSizes();
        if (newRole != role || newLeader != leaderId || newServing != serving) {
            boolean leads = newRole == Role.LEADING && newServing;
            if (leads != (role == Role.LEADING && serving)) leadingSinceMillis = leads ? System.currentTimeMillis() : 0;
            role = newRole;
            leaderId = newLeader;
            serving = newServing;
            LOG.log(Level.INFO, "server {0}: {1}", machine.myId(), machine);
            application.onRoleChange(newRole, newLeader, machine.epoch());
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
        disk.close();
    }
}
