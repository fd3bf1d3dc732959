package io.tandem.server.kafka.replica.sim;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.controller.KafkaController;
import io.tandem.server.kafka.handlers.FetchSessions;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.LogValidator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.replica.ControllerLink;
import io.tandem.server.kafka.replica.LeaderFetch;
import io.tandem.server.kafka.replica.ParkedFetch;
import io.tandem.server.kafka.replica.ReplicaManager;
import io.tandem.storage.log.LogConfig;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * One run of one broker (from its start to its crash), built from the production classes: its real logs on a
 * directory that outlives the run ({@link LogManager}, {@link Partition}), its metadata cache registered in the
 * simulated ZooKeeper ({@link ClusterMetadata}), its replica manager ({@link ReplicaManager}) and its controller
 * candidate ({@link KafkaController}), over the simulation's clock, network and event loop. What stands in for the
 * request handlers is only the glue FetchHandler and ProduceHandler have: the leader's fetch and acks=all rules
 * themselves are {@link LeaderFetch}'s (its servingError and readCheck, as FetchHandler calls them), a parked fetch's
 * {@link ParkedFetch}'s, the follower's {@code FollowerFetch}'s.
 */
final class SimBroker {
    static final long REPLICA_LAG_MS = 2_000;
    static final int FETCH_BYTES_MAX = 64 * 1024;
    /** The version replica fetches travel at (as objects): production's fetcher's. */
    static final short FETCH_VERSION = 12;
    static final int MIN_INSYNC_REPLICAS = 2;
    static final long PRODUCE_TIMEOUT_MS = 3_000;
    /** The topic's produce rules as the produce handler resolves them: Kafka's defaults, min.insync.replicas 2. */
    static final io.tandem.server.kafka.TopicConfigs.ProduceSettings PRODUCE_SETTINGS =
            new io.tandem.server.kafka.TopicConfigs.ProduceSettings(1_048_588, "producer", false, Long.MAX_VALUE,
                    Long.MAX_VALUE, false, MIN_INSYNC_REPLICAS);
    /**
     * Buffers of the simulation's own messages: a message lost on the simulated network is dropped with its buffer
     * unreleased, so these heap buffers are left to the garbage collector rather than to Netty's leak detector.
     */
    static final ByteBufAllocator BUFFERS = new io.netty.buffer.UnpooledByteBufAllocator(false, true);

    final int id;
    final int run;
    final ReplicationSimulator sim;
    final SimScheduler scheduler;
    final SimZooKeeper.Session session;
    final ClusterMetadata metadata;
    final LogManager logs;
    final ReplicaManager replicas;
    /** This run's fetch session cache, as a leader: gone with a crash, like a real broker's. */
    private final FetchSessions fetchSessions = new FetchSessions(1000);
    /** This run's replica fetches waiting for news, as a leader: gone with a crash. */
    private final SimFetchPurgatory fetchPurgatory = new SimFetchPurgatory(this);
    final KafkaController controller;
    final ControllerLink link;
    private final SimEventLoop events = new SimEventLoop();
    boolean alive = true;
    /** Extra milliseconds every disk-bound step of this broker takes while its disk is slow. */
    long slowDiskMs;
    private final Map<TopicPartition, List<PendingProduce>> pending = new TreeMap<>(ReplicationSimulator.ORDER);

    /** An acks=all append waiting for the high watermark, as in the produce purgatory. */
    private record PendingProduce(Partition partition, long requiredOffset, long deadline, Consumer<Short> answer) {
    }

    SimBroker(ReplicationSimulator sim, int id, int run, Path dir) throws IOException {
        this.sim = sim;
        this.id = id;
        this.run = run;
        this.scheduler = sim.scheduler;
        this.session = sim.zooKeeper.openSession(id);
        this.metadata = new ClusterMetadata(session, new BrokerRegistration(id, "broker" + id, 9092, "PLAINTEXT",
                null, 0));
        this.logs = new LogManager(dir, id, scheduler::now, null);
        ReplicaManager.Runtime runtime = new ReplicaManager.Runtime(scheduler::now,
                task -> later(SimNetwork.DELAY_MAX_MS, task),
                leader -> new SimFetcher(this, leader.brokerId()));
        this.replicas = new ReplicaManager(id, metadata, this::openLog, this::highWatermarkMoved, REPLICA_LAG_MS,
                FETCH_BYTES_MAX, runtime);
        this.link = new ControllerLink(id, metadata, replicas, this::deleteLog,
                io.tandem.server.kafka.security.InterBrokerSecurity.PLAINTEXT,
                io.tandem.server.kafka.replica.ControlledShutdownConfig.DEFAULT);
        replicas.alterPartitionSender(sim::sendAlterPartition);
        replicas.localLogs(new ReplicaManager.LocalLogs() {
            @Override
            public java.util.Collection<TopicPartition> onDisk() throws IOException {
                return logs.partitionsOnDisk();
            }

            @Override
            public void delete(TopicPartition tp) {
                deleteLog(tp);
            }
        });
        this.controller = new KafkaController(id, session, metadata, this::handleFromController,
                new KafkaController.Runtime(events, (delayMs, action) -> later(delayMs, action),
                        local -> new SimControllerTransport(this, local)));
        link.controller(controller);
        // Kafka's broker default of unclean.leader.election.enable, as this broker's dynamic config holds it.
        controller.uncleanLeaderElectionDefault(() -> sim.unclean.brokerDefault(id));
    }

    /** Deletes a replica's log (StopReplica with delete, or a stray found), unless a broken rule keeps it. */
    private void deleteLog(TopicPartition tp) {
        ReplicationSimulator.Mutation m = sim.mutation;
        if (m == ReplicationSimulator.Mutation.STALE_REPLICA_KEPT) return;
        if (m == ReplicationSimulator.Mutation.REMOVED_REPLICAS_KEPT && tp.topic().equals(SimReassignment.TOPIC)) return;
        if (m == ReplicationSimulator.Mutation.DELETED_REPLICAS_KEPT && tp.topic().equals(SimTopicDeletion.TOPIC)) return;
        try {
            logs.delete(tp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // As the broker's deleteLog: fetches parked on the partition are answered now that it is gone.
        later(0, () -> fetchPurgatory.check(tp));
    }

    void start() throws Exception {
        metadata.start();
        metadata.onReregistered(controller::onSessionRenewed);
        controller.start();
        maintainIsr();
    }

    /** Runs {@code action} after {@code delayMs}, only if this run of the broker is still alive then. */
    void later(long delayMs, Runnable action) {
        scheduler.after(delayMs, () -> {
            if (alive) action.run();
        });
    }

    private void maintainIsr() {
        long every = Math.max(REPLICA_LAG_MS / 2, 1);
        later(every, () -> {
            replicas.maintainIsr(logs.partitions().values());
            maintainIsr();
        });
    }

    private Partition openLog(TopicInfo topic, int partition) {
        try {
            return logs.getOrCreate(new TopicPartition(topic.name(), partition), LogConfig.defaults());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A controller request arriving here (from the wire, or from this broker's own controller); its answer. */
    ApiMessage handleFromController(ApiKey key, short version, ApiMessage request) {
        if (key == ApiKey.LEADER_AND_ISR) {
            LeaderAndIsrRequest leaderAndIsr = (LeaderAndIsrRequest) request;
            if (sim.mutation == ReplicationSimulator.Mutation.STALE_REPLICA_KEPT) {
                for (var topic : leaderAndIsr.topicStates) topic.topicId = io.tandem.kafka.wire.Primitives.ZERO_UUID;
            }
            LeaderAndIsrResponse response = replicas.becomeLeaderOrFollower(leaderAndIsr, version);
            if (response.errorCode == NONE) {
                sim.checks.controllerRequestAccepted(leaderAndIsr.controllerEpoch, leaderAndIsr.controllerId);
                for (var topic : leaderAndIsr.topicStates) {
                    for (var state : topic.partitionStates) {
                        Partition p = state.leader == id ? logs.get(new TopicPartition(topic.topicName,
                                state.partitionIndex)) : null;
                        if (p != null && p.isLeader()) sim.unclean.leaderTookOver(this, p);
                    }
                }
            } else {
                sim.checks.count("stale controller request refused");
            }
            return response;
        }
        return link.handleFromController(key, version, request);
    }

    /** The process dies: nothing more runs, files stay as written (the page cache outlives a process). */
    void crash() {
        alive = false;
        session.crash(ReplicationSimulator.SESSION_TIMEOUT_MS);
        events.shutdownNow();
        for (List<PendingProduce> waiting : pending.values()) waiting.clear();
        for (Partition p : logs.partitions().values()) {
            try {
                // Releases the files without the clean-shutdown marker: the next run recovers them.
                p.log().close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    // ------------------------------------------------------------------ leader side of the fetch and produce paths

    /** The led partition, or null (FetchHandler's and ProduceHandler's NOT_LEADER_OR_FOLLOWER). */
    Partition leaderPartition(TopicPartition tp) {
        Partition p = logs.get(tp);
        return p != null && p.isLeader() ? p : null;
    }

    /**
     * One partition of a replica fetch as the leader read it; {@code fetchSegment} is the segment its fetch offset
     * lay on then ({@link ParkedFetch#fetchSegment}, -1: no replica here), which a parked fetch is judged by.
     */
    private record Read(String key, FetchResponse.PartitionData data, boolean diverging, long fetchSegment) {
    }

    /** A fetched topic's partitions as the leader read them, in the session's order. */
    private record TopicReads(String topic, List<Read> partitions) {
    }

    /**
     * A replica Fetch from {@code request.replicaId}, answered through {@code answer} as FetchHandler and Kafka's
     * ReplicaManager.fetchMessages answer a follower: at once when the request may not wait (maxWaitMs 0), names no
     * partition, finds an error or a divergence, or has at least its minBytes of records; otherwise it is parked in
     * this leader's {@link SimFetchPurgatory} until an append brings enough or its maxWaitMs runs out (the follower's
     * replica.fetch.wait.max.ms and min.bytes, see {@link SimFetcher}), and read again then.
     */
    void handleReplicaFetch(FetchRequest request, Consumer<FetchResponse> answer) throws IOException {
        long now = scheduler.now();
        // The production session cache: a restarted broker starts with an empty one, as a real restart does.
        FetchSessions.Resolution session = fetchSessions.resolve(request, FETCH_VERSION, now);
        if (session.error() != NONE) {
            sim.checks.count("replica fetch session refused: " + io.tandem.kafka.wire.Errors.forCode(session.error()));
            FetchResponse response = new FetchResponse();
            response.errorCode = session.error();
            answer.accept(response);
            return;
        }
        if (session.incremental()) sim.checks.count("incremental replica fetch served");
        List<TopicReads> reads = read(request, session);
        // As FetchHandler: at once when the fetch may not wait, names no partition or answers an error or a
        // divergence; else production's DelayedFetch cases decide, now and whenever the purgatory looks again.
        if (request.maxWaitMs <= 0 || request.minBytes <= 0 || answersAtOnce(reads)
                || parkedFetchReady(session, reads, request.minBytes)) {
            answer.accept(respond(session, reads));
            return;
        }
        release(reads);
        java.util.Set<TopicPartition> parkedOn = new java.util.HashSet<>();
        for (FetchRequest.FetchTopic topic : session.topics()) {
            for (FetchRequest.FetchPartition fp : topic.partitions) parkedOn.add(new TopicPartition(topic.topic, fp.partition));
        }
        fetchPurgatory.park(parkedOn, request.maxWaitMs,
                () -> parkedFetchReady(session, reads, request.minBytes), expired -> {
                    if (expired) {
                        sim.checks.count("replica fetch answered after waiting " + request.maxWaitMs + " ms");
                    } else if (leadershipMoved(session)) {
                        sim.checks.count("replica fetch answered early by a leadership change");
                    } else {
                        sim.checks.count("replica fetch answered early by an append");
                    }
                    try {
                        answer.accept(respond(session, read(request, session)));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
    }

    /** Whether a partition of the fetch is no longer led here, or led under a newer epoch than the fetcher's. */
    private boolean leadershipMoved(FetchSessions.Resolution session) {
        for (FetchRequest.FetchTopic topic : session.topics()) {
            for (FetchRequest.FetchPartition fp : topic.partitions) {
                Partition partition = hostedReplica(new TopicPartition(topic.topic, fp.partition));
                if (partition == null || LeaderFetch.servingError(partition, fp.currentLeaderEpoch) != NONE) return true;
            }
        }
        return false;
    }

    /** Whether what was read answers the fetch without a wait: an error, a divergence, or no partition at all. */
    private static boolean answersAtOnce(List<TopicReads> reads) {
        boolean any = false;
        for (TopicReads topic : reads) {
            for (Read read : topic.partitions()) {
                any = true;
                if (read.data().errorCode != NONE || read.diverging()) return true;
            }
        }
        // A fetch naming no partition is answered at once, as Kafka's with no fetchInfos.
        return !any;
    }

    /**
     * Production's DelayedFetch look at a parked replica fetch ({@link ParkedFetch}, as FetchHandler's): answered now
     * when a partition's replica is gone or no longer serves the fetcher, was truncated under it, diverged from its
     * last fetched epoch, or lies on an older segment than its log end; else when the bytes past the fetch offsets
     * reach {@code minBytes}.
     */
    private boolean parkedFetchReady(FetchSessions.Resolution session, List<TopicReads> firstReads, int minBytes) {
        long bytes = 0;
        int topicIndex = 0;
        for (FetchRequest.FetchTopic topic : session.topics()) {
            List<Read> reads = firstReads.get(topicIndex++).partitions();
            int partitionIndex = 0;
            for (FetchRequest.FetchPartition fp : topic.partitions) {
                Read first = reads.get(partitionIndex++);
                Partition partition = hostedReplica(new TopicPartition(topic.topic, fp.partition));
                if (partition == null) return true;
                ParkedFetch.Verdict verdict = ParkedFetch.check(partition, fp.fetchOffset, first.fetchSegment(),
                        ParkedFetch.Isolation.LOG_END, fp.currentLeaderEpoch, true, fp.lastFetchedEpoch);
                if (verdict == ParkedFetch.Verdict.ANSWER_NOW) return true;
                if (verdict == ParkedFetch.Verdict.WAIT) continue;
                try {
                    bytes += partition.readForReplica(fp.fetchOffset, fp.partitionMaxBytes).length();
                } catch (IOException | io.tandem.storage.log.OffsetOutOfRangeException
                         | io.tandem.storage.log.LogClosedException e) {
                    return true; // answered now, with the error in the answer, as FetchHandler's
                }
                if (bytes >= minBytes) return true;
            }
        }
        return false;
    }

    /**
     * The replica of {@code tp} this broker hosts as its metadata cache sees it, or null (FetchHandler's
     * CurrentLeaders.hostedReplica: a partition this broker is not assigned is NOT_LEADER_OR_FOLLOWER).
     */
    private Partition hostedReplica(TopicPartition tp) {
        TopicInfo topic = metadata.snapshot().topic(tp.topic());
        java.util.List<Integer> assigned = topic == null ? null : topic.replicas().get(tp.partition());
        if (assigned == null || !assigned.contains(id)) return null;
        return logs.get(tp);
    }

    /** Reads every partition of the fetch now, recording the follower's position as the leader's fetch path does. */
    private List<TopicReads> read(FetchRequest request, FetchSessions.Resolution session) throws IOException {
        long now = scheduler.now();
        List<TopicReads> reads = new ArrayList<>();
        for (FetchRequest.FetchTopic topic : session.topics()) {
            List<Read> partitions = new ArrayList<>();
            for (FetchRequest.FetchPartition fp : topic.partitions) {
                TopicPartition tp = new TopicPartition(topic.topic, fp.partition);
                // FetchHandler's checks, production's code: the hosted replica, its serving check (the fetcher's
                // epoch, then the leadership a replica fetch needs), then Partition.readRecords' (LeaderFetch).
                Partition hosted = hostedReplica(tp);
                FetchResponse.PartitionData data = new FetchResponse.PartitionData();
                data.partitionIndex = fp.partition;
                data.records = Unpooled.EMPTY_BUFFER;
                short error = hosted == null ? NOT_LEADER_OR_FOLLOWER
                        : LeaderFetch.servingError(hosted, fp.currentLeaderEpoch, true);
                Partition partition = error == NONE ? hosted : null;
                long[] diverging = null;
                if (error == NONE) {
                    LeaderFetch.ReadCheck check = LeaderFetch.readCheck(partition, fp.fetchOffset, fp.lastFetchedEpoch);
                    error = check.error();
                    diverging = check.diverging();
                    if (error != NONE) sim.checks.count("replica fetch answered " + io.tandem.kafka.wire.Errors.forCode(error));
                }
                if (error == NONE && diverging == null) {
                    if (partition.recordFollowerFetch(request.replicaId, fp.fetchOffset, fp.logStartOffset, now)) {
                        highWatermarkMoved(tp);
                    }
                    replicas.followerProgressed(partition);
                }
                data.errorCode = error;
                if (partition != null) {
                    data.highWatermark = sim.mutation == ReplicationSimulator.Mutation.FOLLOWERS_TOLD_LOG_END_AS_HW
                            ? partition.logEndOffset() : partition.highWatermark();
                    data.logStartOffset = partition.logStartOffset();
                    data.lastStableOffset = partition.lastStableOffset();
                }
                if (diverging != null) {
                    data.divergingEpoch = new FetchResponse.EpochEndOffset();
                    data.divergingEpoch.epoch = (int) diverging[0];
                    data.divergingEpoch.endOffset = diverging[1];
                    sim.checks.count("follower told it diverges");
                } else if (error == NONE) {
                    LogSlice slice = partition.readForReplica(fp.fetchOffset, fp.partitionMaxBytes);
                    if (!slice.isEmpty()) data.records = slice.readBytes(BUFFERS);
                }
                partitions.add(new Read(FetchSessions.partitionKey(topic.topic, fp.partition), data, diverging != null,
                        hosted == null ? -1 : ParkedFetch.fetchSegment(hosted, fp.fetchOffset)));
            }
            reads.add(new TopicReads(topic.topic, partitions));
        }
        return reads;
    }

    /** The answer to the fetch from what was read, through the session (an incremental one answers only news). */
    private FetchResponse respond(FetchSessions.Resolution session, List<TopicReads> reads) {
        FetchResponse response = new FetchResponse();
        response.sessionId = session.sessionId();
        List<String> answered = new ArrayList<>();
        for (TopicReads topic : reads) {
            FetchResponse.FetchableTopicResponse topicResponse = new FetchResponse.FetchableTopicResponse();
            topicResponse.topic = topic.topic();
            for (Read read : topic.partitions()) {
                if (FetchSessions.answers(session, read.key(), read.data(), read.diverging())) {
                    topicResponse.partitions.add(read.data());
                    if (session.incremental()) answered.add(read.key());
                }
            }
            if (!topicResponse.partitions.isEmpty() || !session.incremental()) response.responses.add(topicResponse);
        }
        if (!answered.isEmpty()) fetchSessions.moveToEnd(session.session(), answered);
        return response;
    }

    private static void release(List<TopicReads> reads) {
        for (TopicReads topic : reads) {
            for (Read read : topic.partitions()) {
                if (read.data().records != null) read.data().records.release();
            }
        }
    }

    /** An acks=all produce of one batch; {@code answer} gets the error code (NONE: acknowledged). */
    void produce(TopicPartition tp, ByteBuf batch, Consumer<Short> answer) throws IOException {
        Partition partition = leaderPartition(tp);
        if (partition == null) {
            answer.accept(NOT_LEADER_OR_FOLLOWER);
            return;
        }
        Partition.AppendResult result = partition.append(batch, LogValidator.forClients(PRODUCE_SETTINGS, scheduler.now()),
                MIN_INSYNC_REPLICAS);
        if (result.error() != NONE) {
            answer.accept(result.error());
            return;
        }
        awaitReplication(tp, partition, result, answer);
    }

    /**
     * A WriteTxnMarkers request for one partition, as the transaction coordinator sends it: the marker appended by the
     * leader (production's {@link Partition#appendTransactionMarker}) and answered once replicated as an acks=all
     * produce is (Kafka appends markers with acks=-1).
     */
    void writeTxnMarker(TopicPartition tp, long producerId, short producerEpoch, int coordinatorEpoch, boolean commit,
                        Consumer<Short> answer) throws IOException {
        Partition partition = leaderPartition(tp);
        if (partition == null) {
            answer.accept(NOT_LEADER_OR_FOLLOWER);
            return;
        }
        Partition.AppendResult result = partition.appendTransactionMarker(producerId, producerEpoch, coordinatorEpoch,
                commit, scheduler.now(), MIN_INSYNC_REPLICAS);
        if (result.error() != NONE) {
            answer.accept(result.error());
            return;
        }
        awaitReplication(tp, partition, result, answer);
    }

    private void awaitReplication(TopicPartition tp, Partition partition, Partition.AppendResult result,
                                  Consumer<Short> answer) {
        // Fetches parked on the partition look again once this produce is handled (Kafka's action queue).
        later(0, () -> fetchPurgatory.check(tp));
        if (sim.mutation == ReplicationSimulator.Mutation.ACKS_ALL_ANSWERED_AT_APPEND) {
            answer.accept(NONE);
            return;
        }
        PendingProduce waiting = new PendingProduce(partition, result.lastOffset() + 1,
                scheduler.now() + PRODUCE_TIMEOUT_MS, answer);
        if (LeaderFetch.produceDecided(partition, waiting.requiredOffset())) {
            answer.accept(LeaderFetch.produceOutcome(partition, waiting.requiredOffset(), MIN_INSYNC_REPLICAS));
            return;
        }
        pending.computeIfAbsent(tp, k -> new ArrayList<>()).add(waiting);
        later(PRODUCE_TIMEOUT_MS, () -> completePending(tp, true));
    }

    /** The purgatory's check, run when the high watermark or leadership moves and at the timeouts. */
    private void completePending(TopicPartition tp, boolean timeouts) {
        List<PendingProduce> waiting = pending.get(tp);
        if (waiting == null) return;
        for (Iterator<PendingProduce> it = waiting.iterator(); it.hasNext(); ) {
            PendingProduce p = it.next();
            boolean expired = timeouts && scheduler.now() >= p.deadline();
            if (!expired && !LeaderFetch.produceDecided(p.partition(), p.requiredOffset())) continue;
            it.remove();
            p.answer().accept(LeaderFetch.produceOutcome(p.partition(), p.requiredOffset(), MIN_INSYNC_REPLICAS));
        }
    }

    /**
     * ReplicaManager's wake-up for the purgatories (a high watermark moved, a leadership taken or lost, a StopReplica):
     * parked produces look again now, parked fetches once this step is done, as Kafka's ReplicaManager completes both.
     */
    private void highWatermarkMoved(TopicPartition tp) {
        if (!alive) return;
        completePending(tp, false);
        later(0, () -> fetchPurgatory.check(tp));
    }

    /** A consumer's read of committed records (Kafka's read up to the high watermark), or null when not leader. */
    LogSlice consumerRead(TopicPartition tp, long offset) throws IOException {
        Partition p = leaderPartition(tp);
        if (p == null) return null;
        if (offset < p.logStartOffset() || offset > p.logEndOffset()) return null;
        if (sim.mutation == ReplicationSimulator.Mutation.CONSUMERS_READ_PAST_HW) {
            return p.readForReplica(offset, FETCH_BYTES_MAX);
        }
        return p.read(offset, FETCH_BYTES_MAX, true);
    }

    /** A read_committed fetch: whole batches below the last stable offset, with the aborted transactions among them. */
    record CommittedRead(LogSlice slice, List<io.tandem.storage.log.AbortedTransaction> aborted) {
    }

    /** A read_committed consumer's fetch from {@code offset} (Kafka's FetchIsolation.TXN_COMMITTED), or null. */
    CommittedRead committedRead(TopicPartition tp, long offset) throws IOException {
        Partition p = leaderPartition(tp);
        if (p == null) return null;
        if (offset < p.logStartOffset() || offset > p.logEndOffset()) return null;
        LogSlice slice = p.readCommitted(offset, FETCH_BYTES_MAX, true);
        if (slice == null || slice.isEmpty()) return new CommittedRead(slice, List.of());
        return new CommittedRead(slice, p.log().abortedTransactions(offset, slice.nextOffset()));
    }

    /** The leader this broker's metadata cache names for {@code tp} (what a client's Metadata request learns). */
    int believedLeader(TopicPartition tp) {
        TopicInfo topic;
        try {
            topic = metadata.topic(tp.topic());
        } catch (io.tandem.server.kafka.ApiException e) {
            return -1; // not in the cache, and ZooKeeper cannot be read now (its session expired)
        }
        if (topic == null) return -1;
        PartitionState state = topic.states().get(tp.partition());
        return state == null ? -1 : state.leader();
    }
}
