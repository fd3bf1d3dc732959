package io.tandem.server.zab.apache;

import io.netty.handler.codec.CorruptedFrameException;
import io.tandem.server.zab.apache.ElectionWire.Notification;
import io.tandem.server.zab.apache.FastLeaderElection.Output;
import io.tandem.server.zab.apache.FastLeaderElection.Outgoing;
import io.tandem.server.zab.apache.FastLeaderElection.Vote;
import java.io.Closeable;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs Apache's fast leader election for this member: a {@link FastLeaderElection} on one thread, fed by the
 * {@link ElectionTransport}'s frames and by its timers (Apache's finalizeWait, and the notification interval that
 * starts at 200 ms and doubles up to 60 s while nothing arrives). A notification to this member itself is handed
 * straight back to the machine, as Apache's QuorumCnxManager does. After a decision the machine keeps answering
 * looking members with it until {@link #lookForLeader} starts the next round.
 */
public final class ApacheElection implements Closeable {
    private static final Logger LOG = System.getLogger(ApacheElection.class.getName());

    /** One member as Apache's configuration names it: {@code server.N=host:quorumPort:electionPort;clientPort}. */
    public record Member(long sid, String host, int quorumPort, int electionPort, int clientPort) {
    }

    /** Received notifications waiting for the election thread (Apache's QuorumCnxManager.RECV_CAPACITY). */
    static final int RECEIVED_QUEUED_MAX = 100;

    private final long myId;
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private final FastLeaderElection machine;
    private final ElectionTransport transport;
    private final ScheduledExecutorService thread;
    private CompletableFuture<Vote> decision = new CompletableFuture<>();
    private long notificationIntervalMs = FastLeaderElection.NOTIFICATION_INTERVAL_MS_MIN;
    private ScheduledFuture<?> idleTimer;
    private ScheduledFuture<?> finalizeTimer;

    public ApacheElection(long myId, Map<Long, Member> members) {
        this(myId, members, Set.of());
    }

    /**
     * {@code observers}: the members that do not vote (zoo.cfg's {@code :observer} lines). They are reachable, a
     * notification of theirs is answered with this member's vote, and none of them counts towards a quorum. When this
     * member is one of them, it learns the leader from the voters' votes and decides OBSERVING.
     */
    public ApacheElection(long myId, Map<Long, Member> members, Set<Long> observers) {
        this(myId, members, observers, Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "apache-election-" + myId);
            t.setDaemon(true);
            return t;
        }));
    }

    /** {@code thread}: the single thread the machine runs on (tests pass one they can hold up). */
    ApacheElection(long myId, Map<Long, Member> members, ScheduledExecutorService thread) {
        this(myId, members, Set.of(), thread);
    }

    private ApacheElection(long myId, Map<Long, Member> members, Set<Long> observers,
                           ScheduledExecutorService thread) {
        this.myId = myId;
        Map<Long, ElectionTransport.Member> addresses = new TreeMap<>();
        members.forEach((sid, m) -> addresses.put(sid, new ElectionTransport.Member(sid, m.host(), m.electionPort())));
        Set<Long> voters = new TreeSet<>(members.keySet());
        voters.removeAll(observers);
        // This member observing (its own :observer line) looks for the leader as Apache's observer does.
        this.machine = new FastLeaderElection(myId, voters,
                configText(members, observers).getBytes(StandardCharsets.UTF_8), observers.contains(myId));
        this.thread = thread;
        this.transport = new ElectionTransport(myId, addresses, this::onFrame);
    }

    /** {@link #configText(Map, Set)} of members that all vote. */
    public static String configText(Map<Long, Member> members) {
        return configText(members, Set.of());
    }

    /**
     * The configuration text Apache's notifications and NEWLEADER carry (QuorumMaj's form): one
     * {@code server.N=host:quorumPort:electionPort:participant;host:clientPort} line per member ({@code :observer} for
     * one of {@code observers}) and {@code version=0}, the version of a static configuration, which a receiver never
     * takes over its own.
     */
    public static String configText(Map<Long, Member> members, Set<Long> observers) {
        StringBuilder text = new StringBuilder();
        for (Member m : new TreeMap<>(members).values()) {
            text.append("server.").append(m.sid()).append('=').append(m.host()).append(':').append(m.quorumPort())
                    .append(':').append(m.electionPort())
                    .append(observers.contains(m.sid()) ? ":observer" : ":participant");
            if (m.clientPort() > 0) {
                text.append(';').append(m.host()).append(':').append(m.clientPort());
            }
            text.append('\n');
        }
        return text.append("version=0").toString();
    }

    /** Binds the election port; call {@link #lookForLeader} to vote. */
    /** Before {@link #start}: how election connections are secured (sslQuorum's TLS); plain unless called. */
    public void useSockets(QuorumSockets sockets) {
        transport.useSockets(sockets);
    }

    public ApacheElection start() throws InterruptedException {
        transport.start();
        return this;
    }

    public int electionPort() {
        return transport.boundPort();
    }

    /**
     * Starts a round with this member's last logged zxid and currentEpoch; the future completes with the decided vote
     * (its leader leads; this member leads when it is {@code myId}).
     */
    public CompletableFuture<Vote> lookForLeader(long lastLoggedZxid, long currentEpoch) {
        CompletableFuture<Vote> next = new CompletableFuture<>();
        thread.execute(() -> {
            decision = next;
            notificationIntervalMs = FastLeaderElection.NOTIFICATION_INTERVAL_MS_MIN;
            LOG.log(Level.INFO, "server {0}: looking for a leader (zxid 0x{1}, epoch {2})", myId,
                    Long.toHexString(lastLoggedZxid), currentEpoch);
            apply(machine.lookForLeader(lastLoggedZxid, currentEpoch));
            armIdleTimer();
        });
        return next;
    }

    /**
     * A configuration a reconfig activated: the election counts its voters and sends its text from the next
     * notification on, and the transport can reach the members it names.
     */
    public void reconfigure(ApacheConfig config) {
        Map<Long, ElectionTransport.Member> addresses = new TreeMap<>();
        config.members().forEach((sid, m) -> addresses.put(sid,
                new ElectionTransport.Member(sid, m.host(), m.electionPort())));
        transport.addMembers(addresses);
        byte[] text = config.text().getBytes(StandardCharsets.UTF_8);
        thread.execute(() -> machine.reconfigure(config.voters(), text));
    }

    /**
     * See {@link FastLeaderElection#changeRole}: a reconfig made this member an observer or a participant. Ordered
     * before a {@link #reconfigure} called after it.
     */
    public void changeRole(boolean observer) {
        thread.execute(() -> machine.changeRole(observer));
    }

    /** See {@link FastLeaderElection#designate}: the next session goes to {@code leader} without an election. */
    public void designate(long leader, long zxid) {
        thread.execute(() -> machine.designate(leader, zxid));
    }

    /** See {@link FastLeaderElection#updatePeerEpoch}: the leadership or the following in {@code newEpoch} began. */
    public void updateElectionVote(long newEpoch) {
        thread.execute(() -> machine.updatePeerEpoch(newEpoch));
    }

    /**
     * A newer configuration seen proposed and not yet activated (Apache's last seen one): the transport can reach
     * the members it names, and the election counts its voters beside the configuration in force.
     */
    public void lastSeen(ApacheConfig config) {
        Map<Long, ElectionTransport.Member> addresses = new TreeMap<>();
        config.members().forEach((sid, m) -> addresses.put(sid,
                new ElectionTransport.Member(sid, m.host(), m.electionPort())));
        transport.addMembers(addresses);
        Set<Long> voters = config.voters();
        thread.execute(() -> machine.lastSeen(voters));
    }

    /** The decided vote, or null while looking; read on any thread. */
    public Vote currentVote() {
        try {
            return thread.submit(machine::currentVote).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("the election thread did not answer", e);
        }
    }

    /** Received notifications dropped because {@link #RECEIVED_QUEUED_MAX} were waiting. */
    long droppedNotifications() {
        return dropped.get();
    }

    /** Received notifications waiting for the election thread. */
    int queuedNotifications() {
        return queued.get();
    }

    private void onFrame(long from, byte[] frame) {
        Notification n;
        try {
            n = ElectionWire.decode(frame);
        } catch (CorruptedFrameException e) {
            LOG.log(Level.WARNING, "server {0}: bad notification from server {1}: {2}", myId, from, e.getMessage());
            return;
        }
        if (queued.incrementAndGet() > RECEIVED_QUEUED_MAX) {
            // Apache's receive queue holds RECV_CAPACITY notifications and drops beyond it too: peers repeat
            // their vote, so a dropped one costs a round trip, while an unbounded queue costs memory to a flood.
            queued.decrementAndGet();
            dropped.incrementAndGet();
            LOG.log(Level.DEBUG, "server {0}: {1} notifications waiting; dropped one from server {2}", myId,
                    RECEIVED_QUEUED_MAX, from);
            return;
        }
        thread.execute(() -> {
            queued.decrementAndGet();
            receive(from, n);
        });
    }

    private void receive(long from, Notification n) {
        LOG.log(Level.DEBUG, "server {0}: from {1}: {2}", myId, from, n);
        boolean looking = machine.currentVote() == null;
        apply(machine.receive(from, n));
        if (looking && from != myId) {
            armIdleTimer(); // Apache's poll waits notTimeout afresh after each notification
        }
    }

    private void apply(Output output) {
        for (Outgoing send : output.sends()) {
            if (send.to() == myId) {
                Notification own = send.notification();
                thread.execute(() -> receive(myId, own));
            } else {
                transport.send(send.to(), ElectionWire.encode(send.notification()));
            }
        }
        if (output.armFinalizeTimer()) {
            if (finalizeTimer != null) finalizeTimer.cancel(false);
            finalizeTimer = thread.schedule(() -> apply(machine.finalizeWaitExpired()),
                    FastLeaderElection.FINALIZE_WAIT_MS, TimeUnit.MILLISECONDS);
        }
        if (output.decided() != null) {
            if (finalizeTimer != null) finalizeTimer.cancel(false);
            if (idleTimer != null) idleTimer.cancel(false);
            Vote vote = output.decided();
            LOG.log(Level.INFO, "server {0}: election round 0x{1} decided: {2}, leader {3} (zxid 0x{4}, epoch {5})",
                    myId, Long.toHexString(machine.logicalClock()), machine.state(), vote.leader(),
                    Long.toHexString(vote.zxid()), vote.peerEpoch());
            decision.complete(vote);
        }
    }

    private void armIdleTimer() {
        if (idleTimer != null) idleTimer.cancel(false);
        idleTimer = thread.schedule(this::idle, notificationIntervalMs, TimeUnit.MILLISECONDS);
    }

    private void idle() {
        if (machine.currentVote() != null) return;
        apply(machine.idle());
        notificationIntervalMs = Math.min(notificationIntervalMs * 2, FastLeaderElection.NOTIFICATION_INTERVAL_MS_MAX);
        armIdleTimer();
    }

    @Override
    public void close() {
        thread.shutdownNow();
        transport.close();
    }
}
