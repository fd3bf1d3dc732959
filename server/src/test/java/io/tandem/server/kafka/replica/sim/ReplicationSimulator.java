package io.tandem.server.kafka.replica.sim;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.message.AlterPartitionRequest;
import io.tandem.kafka.wire.message.AlterPartitionResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.replica.ReplicaFetcherConfig;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * One seed of the replication simulation: three brokers (each a controller candidate) on a simulated ZooKeeper and
 * network, a topic of two partitions replicated three times with min.insync.replicas=2, an acks=all producer and a
 * consumer reading committed records, and faults (crashes and restarts of any broker, the controller or a leader;
 * brokers cut off from the others; ZooKeeper session expiry; slow disks) for {@link #FAULTY_MS}, then everything
 * healed for {@link #SETTLE_MS}. Checked while it runs and at the end: no acknowledged record is lost; replicas
 * never disagree below their high watermarks; a record a consumer read never vanishes; one controller per epoch.
 * Everything runs on the caller's thread in simulated time, so the seed replays exactly.
 */
final class ReplicationSimulator {
    /** Rules deliberately broken, to show the checkers catch a broken replication (never in production code). */
    enum Mutation {
        NONE,
        /** acks=all answered as soon as the leader appended (acks=1's rule). */
        ACKS_ALL_ANSWERED_AT_APPEND,
        /** The leader tells followers its log end offset as the high watermark. */
        FOLLOWERS_TOLD_LOG_END_AS_HW,
        /** Consumers read up to the log end offset instead of the high watermark. */
        CONSUMERS_READ_PAST_HW,
        /** ZooKeeper keeps the old value of {@code /controller_epoch} (only its version moves) on a controller's write. */
        CONTROLLER_EPOCH_NOT_STORED,
        /** The producers retry their batches without a producer id (a plain retrying producer, not an idempotent one). */
        RETRIES_WITHOUT_IDEMPOTENCE,
        /**
         * Brokers keep the log of a deleted topic (StopReplica's delete ignored) and LeaderAndIsr reaches them without
         * topic ids, so nothing tells them a replica on disk belongs to a deleted topic of the same name.
         */
        STALE_REPLICA_KEPT,
        /**
         * Brokers keep the replicas a reassignment removed from them (StopReplica's delete, and the deletion of a
         * stray on a full LeaderAndIsr, ignored for that topic).
         */
        REMOVED_REPLICAS_KEPT,
        /**
         * Brokers keep the replicas of the topic deleted and created again (StopReplica's delete and the deletion of
         * strays ignored for it; topic ids still sent, so a replica inside the new incarnation is still emptied).
         */
        DELETED_REPLICAS_KEPT
    }

    static final int[] BROKER_IDS = {1, 2, 3};
    static final String TOPIC = "events";
    static final int PARTITIONS = 2;
    /** zookeeper.session.timeout.ms, scaled down with replica.lag.time.max.ms so a seed sees many failovers. */
    static final long SESSION_TIMEOUT_MS = 3_000;
    static final long FAULTY_MS = 15_000;
    static final long SETTLE_MS = 12_000;
    static final long CLIENT_TIMEOUT_MS = 5_000;
    static final int PRODUCES_IN_FLIGHT_MAX = 8;
    static final long SAMPLE_EVERY_MS = 1_000;
    /** Idempotent producers beside the plain acks=all one, each with its own producer id (epoch 0). */
    static final int IDEMPOTENT_PRODUCERS = 2;
    static final long IDEMPOTENT_PRODUCER_ID_BASE = 4_000;

    /**
     * The followers' replica.fetch.* settings unless a run names others: Kafka's wait (500 ms) and min bytes (1), the
     * simulation's smaller partition bytes and backoff.
     */
    static final ReplicaFetcherConfig FETCHING = new ReplicaFetcherConfig(SimBroker.FETCH_BYTES_MAX,
            ReplicaFetcherConfig.WAIT_MAX_MS_DEFAULT, ReplicaFetcherConfig.MIN_BYTES_DEFAULT,
            ReplicaFetcherConfig.RESPONSE_BYTES_MAX_DEFAULT, SimFetcher.BACKOFF_MS);

    final long seed;
    final Mutation mutation;
    final ReplicaFetcherConfig fetching;
    private final boolean livenessChecked;
    private final int idempotentProducerCount;
    /** The topic deleted and created again during the faults, or null (replays of seeds from before it came). */
    private final SimTopicDeletion topicDeletion;
    /** The topic moved between brokers during the faults, or null (as {@link #topicDeletion}). */
    private final SimReassignment reassignment;
    /** The transactional producers and read_committed readers, or null (see {@link #withTransactions}). */
    private SimTransactions transactions;
    final SimScheduler scheduler;
    final SimChecks checks;
    final SimNetwork network;
    final SimZooKeeper zooKeeper;
    private final Path root;
    private final Map<Integer, SimBroker> brokers = new TreeMap<>();
    /** A session that only reads ZooKeeper, for the checks. */
    private final SimZooKeeper.Session observer;
    private final Map<Integer, Integer> runs = new TreeMap<>();
    final List<TopicPartition> partitions = new ArrayList<>();
    private final List<SimIdempotentProducer> idempotentProducers = new ArrayList<>();
    private boolean faults = true;
    private boolean clients = true;
    private long nextValue = 1;
    private int producesInFlight;
    private final Map<TopicPartition, TreeSet<Long>> acked = new TreeMap<>(ORDER);
    /** The leader epoch each acknowledged value was acknowledged at (its leader's, when it answered). */
    private final Map<Long, Integer> ackEpochs = new java.util.HashMap<>();
    /**
     * The ISR the leader held when it acknowledged each value: every member had the record then (acks=all), so an
     * unclean election can lose it only by electing a replica outside it.
     */
    private final Map<Long, List<Integer>> ackIsrs = new java.util.HashMap<>();
    /** unclean.leader.election.enable for the topic, and the records unclean elections lost. */
    final SimUncleanElections unclean;
    private final Map<TopicPartition, TreeMap<Long, Long>> consumed = new TreeMap<>(ORDER);
    private final Map<TopicPartition, Long> consumerPosition = new TreeMap<>(ORDER);
    /** Every record some replica held below its high watermark, by offset: the committed history. */
    private final Map<TopicPartition, TreeMap<Long, Long>> committed = new TreeMap<>(ORDER);

    static final Comparator<TopicPartition> ORDER = Comparator.comparing(TopicPartition::topic)
            .thenComparingInt(TopicPartition::partition);

    /** {@code digest}: the seed's whole history ({@link SimChecks#historyDigest}), equal on every replay. */
    record Outcome(long seed, long acked, long consumed, int controllerEpochs, Map<String, Long> stats,
                   List<String> violations, String digest) {
    }

    ReplicationSimulator(long seed, Mutation mutation, Path root) {
        this(seed, mutation, root, !"false".equals(System.getProperty("replsim.liveness")), true);
    }

    /**
     * {@code livenessChecked}: a replica that never catches up after healing is a violation, not only counted;
     * {@code extraWorkloads}: the idempotent producers and the topic deleted and created again run beside the plain
     * producer (false replays a seed as it ran before they came).
     */
    ReplicationSimulator(long seed, Mutation mutation, Path root, boolean livenessChecked, boolean extraWorkloads) {
        this(seed, mutation, root, livenessChecked, extraWorkloads, FETCHING);
    }

    /** {@code fetching}: the followers' replica.fetch.* settings, through production's own settings class. */
    ReplicationSimulator(long seed, Mutation mutation, Path root, boolean livenessChecked, boolean extraWorkloads,
                         ReplicaFetcherConfig fetching) {
        this(seed, mutation, root, livenessChecked, extraWorkloads, fetching, SimUncleanElections.Mode.OFF);
    }

    /**
     * {@code unclean}: how unclean.leader.election.enable is on for the topic. With it on, only the plain producer and
     * the consumer run beside the faults: an idempotent producer's acknowledged batches lost to an unclean election
     * leave its sequences with a gap by design (Kafka's producer then sees OUT_OF_ORDER_SEQUENCE_NUMBER), and the
     * deleted and moved topics' checks count every acknowledged record as owed.
     */
    ReplicationSimulator(long seed, Mutation mutation, Path root, boolean livenessChecked, boolean extraWorkloads,
                         ReplicaFetcherConfig fetching, SimUncleanElections.Mode unclean) {
        this.unclean = new SimUncleanElections(this, unclean);
        extraWorkloads &= unclean == SimUncleanElections.Mode.OFF;
        this.fetching = fetching;
        this.livenessChecked = livenessChecked;
        this.idempotentProducerCount = extraWorkloads ? IDEMPOTENT_PRODUCERS : 0;
        this.seed = seed;
        this.mutation = mutation;
        this.root = root;
        this.scheduler = new SimScheduler(seed);
        this.checks = new SimChecks(scheduler);
        this.network = new SimNetwork(scheduler);
        this.zooKeeper = new SimZooKeeper(scheduler, checks, mutation == Mutation.CONTROLLER_EPOCH_NOT_STORED);
        this.observer = zooKeeper.openSession(-2);
        zooKeeper.onWritten(this.unclean::written);
        this.topicDeletion = extraWorkloads ? new SimTopicDeletion(this) : null;
        this.reassignment = extraWorkloads ? new SimReassignment(this) : null;
    }

    /** Runs the transactional workload ({@link SimTransactions}) beside the others; call before {@link #run}. */
    ReplicationSimulator withTransactions() {
        transactions = new SimTransactions(this);
        return this;
    }

    Outcome run() throws Exception {
        startBrokers();
        produceLoop();
        for (int i = 0; i < idempotentProducerCount; i++) {
            SimIdempotentProducer producer = new SimIdempotentProducer(this, IDEMPOTENT_PRODUCER_ID_BASE + i, (short) 0,
                    partitions, mutation != Mutation.RETRIES_WITHOUT_IDEMPOTENCE);
            idempotentProducers.add(producer);
            idempotentProduceLoop(producer);
        }
        for (TopicPartition tp : partitions) consumeLoop(tp);
        if (transactions != null) transactions.start();
        if (topicDeletion != null) topicDeletion.start();
        if (reassignment != null) reassignment.start();
        sampleLoop();
        unclean.start();
        new SimFaults(this).start();
        scheduler.runFor(FAULTY_MS);
        faults = false;
        network.healAll();
        for (int id : BROKER_IDS) {
            SimBroker b = brokers.get(id);
            if (b == null || !b.alive) start(id);
            brokers.get(id).slowDiskMs = 0;
        }
        scheduler.runFor(SETTLE_MS / 2);
        if (topicDeletion != null) topicDeletion.heal();
        if (reassignment != null) reassignment.heal();
        clients = false;
        scheduler.runFor(SETTLE_MS / 2);
        finalChecks();
        for (SimBroker b : brokers.values()) if (b.alive) b.crash();
        long ackedCount = acked.values().stream().mapToLong(TreeSet::size).sum()
                + idempotentProducers.stream().mapToLong(SimIdempotentProducer::ackedCount).sum()
                + (transactions == null ? 0 : transactions.ackedCount());
        long consumedCount = consumed.values().stream().mapToLong(TreeMap::size).sum();
        return new Outcome(seed, ackedCount, consumedCount, checks.controllerEpochs(), checks.stats, checks.violations,
                checks.historyDigest(seed));
    }

    /** The topic written to ZooKeeper and every broker started: the cluster before any client or fault. */
    void startBrokers() throws Exception {
        createTopic();
        for (int id : BROKER_IDS) start(id);
    }

    private void createTopic() throws Exception {
        SortedMap<Integer, List<Integer>> assignment = new TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) {
            List<Integer> replicas = new ArrayList<>();
            for (int i = 0; i < BROKER_IDS.length; i++) replicas.add(BROKER_IDS[(p + i) % BROKER_IDS.length]);
            assignment.put(p, replicas);
            TopicPartition tp = new TopicPartition(TOPIC, p);
            partitions.add(tp);
            acked.put(tp, new TreeSet<>());
            consumed.put(tp, new TreeMap<>());
            committed.put(tp, new TreeMap<>());
            consumerPosition.put(tp, 0L);
        }
        SimZooKeeper.Session admin = zooKeeper.openSession(-1);
        admin.create(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(new TopicAssignment(
                new UUID(scheduler.random.nextLong(), scheduler.random.nextLong()), assignment)), false);
        if (reassignment != null) reassignment.create(admin);
        if (!unclean.topicConfig().isEmpty()) {
            admin.create(KafkaZkLayout.topicConfigPath(TOPIC), KafkaZkLayout.encodeEntityConfig(unclean.topicConfig()),
                    false);
        }
        admin.close();
    }

    /** Starts broker {@code id} (again, after a crash: a new run of it on the same directory). */
    void start(int id) {
        try {
            int run = runs.merge(id, 1, Integer::sum);
            SimBroker b = new SimBroker(this, id, run, Files.createDirectories(root.resolve("broker-" + id)));
            brokers.put(id, b);
            unclean.brokerStarted(id);
            b.start();
            if (run > 1) checks.count("broker restarted");
        } catch (Exception e) {
            throw new IllegalStateException("seed " + seed + ": broker " + id + " failed to start", e);
        }
    }

    /** The broker {@code id} if it is running now. */
    SimBroker running(int id) {
        SimBroker b = brokers.get(id);
        return b != null && b.alive ? b : null;
    }

    List<SimBroker> runningBrokers() {
        return brokers.values().stream().filter(b -> b.alive).toList();
    }

    /** One of {@code from} at random, or null when it is empty. */
    SimBroker pick(List<SimBroker> from) {
        return from.isEmpty() ? null : from.get(scheduler.random.nextInt(from.size()));
    }

    /** ReplicaManager's AlterPartition to the controller its metadata names, as ControllerLink sends it. */
    AlterPartitionResponse sendAlterPartition(AlterPartitionRequest request) throws Exception {
        SimBroker from = running(request.brokerId);
        int controllerId = from == null ? -1 : from.metadata.controllerId();
        SimBroker controller = running(controllerId);
        if (controller == null || !network.connected(request.brokerId, controllerId)) {
            throw new IOException("controller " + controllerId + " is not reachable from " + request.brokerId);
        }
        for (AlterPartitionRequest.TopicData topic : request.topics) {
            for (AlterPartitionRequest.PartitionData data : topic.partitions) {
                Partition p = from.logs.get(new TopicPartition(topic.topicName, data.partitionIndex));
                int before = p == null ? data.newIsr.size() : p.inSyncReplicas().size();
                if (data.newIsr.size() != before) {
                    checks.count(data.newIsr.size() < before ? "ISR shrink proposed" : "ISR expand proposed");
                }
            }
        }
        AlterPartitionResponse response = controller.controller.alterPartition(request);
        checks.count(response.errorCode == NONE ? "AlterPartition answered" : "AlterPartition refused");
        return response;
    }

    // ------------------------------------------------------------------------------------------------ clients

    private void produceLoop() {
        scheduler.after(scheduler.between(5, 30), () -> {
            if (!clients) return;
            if (producesInFlight < PRODUCES_IN_FLIGHT_MAX) produceOnce();
            produceLoop();
        });
    }

    private void idempotentProduceLoop(SimIdempotentProducer producer) {
        scheduler.after(scheduler.between(10, 60), () -> {
            if (!clients) return;
            producer.send(partitions.get(scheduler.random.nextInt(partitions.size())));
            idempotentProduceLoop(producer);
        });
    }

    /** The node's data in ZooKeeper now, or null. */
    byte[] zooKeeperData(String path) {
        return observer.getData(path);
    }

    /** The running broker whose controller is active and loaded, or null. */
    SimBroker activeController() {
        return runningBrokers().stream().filter(b -> b.controller.isActive()).findFirst().orElse(null);
    }

    /** The partition's state as ZooKeeper holds it now (what the controller last wrote), or null. */
    io.tandem.server.kafka.metadata.PartitionState zooKeeperState(TopicPartition tp) {
        byte[] data = observer.getData(KafkaZkLayout.partitionStatePath(tp.topic(), tp.partition()));
        return data == null ? null : KafkaZkLayout.decodePartitionState(data);
    }

    boolean faultsOn() {
        return faults;
    }

    boolean clientsOn() {
        return clients;
    }

    /** A value no record had before. */
    long nextValue() {
        return nextValue++;
    }

    /** The leader of {@code tp} as a client learns it: from the metadata of a broker it reaches, or -1. */
    int believedLeaderForClient(TopicPartition tp) {
        SimBroker source = pick(runningBrokers().stream().filter(b -> network.connected(SimNetwork.CLIENT, b.id)).toList());
        return source == null ? -1 : source.believedLeader(tp);
    }

    private void produceOnce() {
        TopicPartition tp = partitions.get(scheduler.random.nextInt(partitions.size()));
        int leader = believedLeaderForClient(tp);
        if (leader < 0) return;
        long value = nextValue++;
        ByteBuf batch = SimBroker.BUFFERS.heapBuffer(96);
        try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
            builder.append(scheduler.now(), null, java.nio.ByteBuffer.allocate(8).putLong(value).array());
            builder.build();
        }
        producesInFlight++;
        boolean[] done = new boolean[1];
        network.send(SimNetwork.CLIENT, leader, () -> {
            SimBroker target = running(leader);
            if (target == null) return;
            target.later(target.slowDiskMs, () -> {
                try {
                    target.produce(tp, batch, error -> {
                        Partition at = target.logs.get(tp);
                        int ackEpoch = at == null ? -1 : at.leaderEpoch();
                        List<Integer> ackIsr = at == null ? List.of() : List.copyOf(at.inSyncReplicas());
                        network.send(leader, SimNetwork.CLIENT, () -> {
                        if (done[0]) return;
                        done[0] = true;
                        producesInFlight--;
                        if (error == NONE) {
                            acked.get(tp).add(value);
                            ackEpochs.put(value, ackEpoch);
                            ackIsrs.put(value, ackIsr);
                            checks.record("acknowledged " + value + " on " + tp);
                            checks.count("produce acknowledged");
                        } else {
                            checks.count("produce refused: " + io.tandem.kafka.wire.Errors.forCode(error));
                        }
                        });
                    });
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        });
        scheduler.after(CLIENT_TIMEOUT_MS, () -> {
            if (done[0]) return;
            done[0] = true;
            producesInFlight--;
            checks.count("produce outcome unknown (timed out)");
        });
    }

    private void consumeLoop(TopicPartition tp) {
        scheduler.after(scheduler.between(20, 80), () -> {
            if (!clients) return;
            consumeOnce(tp);
            consumeLoop(tp);
        });
    }

    private void consumeOnce(TopicPartition tp) {
        SimBroker source = pick(runningBrokers());
        if (source == null) return;
        SimBroker leader = running(source.believedLeader(tp));
        if (leader == null || !network.connected(SimNetwork.CLIENT, leader.id)) return;
        long position = consumerPosition.get(tp);
        try {
            LogSlice slice = leader.consumerRead(tp, position);
            if (slice == null || slice.isEmpty()) return;
            TreeMap<Long, Long> seen = consumed.get(tp);
            for (long[] record : SimRecords.of(slice)) {
                if (record[0] < position) continue;
                if (unclean.lost(tp, record[0], record[1], (int) record[2])) {
                    // A deposed leader still serving a record an unclean election lost: Kafka's consumer learns of
                    // the truncation from the new leader (KIP-320) and goes back to where the logs agree.
                    checks.count("consumer read a record lost to unclean election");
                    break;
                }
                Long earlier = seen.putIfAbsent(record[0], record[1]);
                if (earlier != null && earlier != record[1]) {
                    checks.violation("consumer of " + tp + " read value " + earlier + " and later " + record[1]
                            + " at offset " + record[0]);
                }
                position = record[0] + 1;
                checks.count("record consumed");
            }
            consumerPosition.put(tp, position);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------------ checks

    private void sampleLoop() {
        scheduler.after(SAMPLE_EVERY_MS, () -> {
            sample();
            sampleLoop();
        });
    }

    /** Every running replica's records below its high watermark must be the committed history. */
    private void sample() {
        for (SimBroker b : runningBrokers()) {
            for (TopicPartition tp : partitions) {
                Partition p = b.logs.get(tp);
                if (p == null) continue;
                try {
                    if (transactions != null) transactions.sample(b, p);
                    TreeMap<Long, Long> history = committed.get(tp);
                    SimRecords.below(p, p.highWatermark(), unclean).forEach((offset, value) -> {
                        Long known = history.putIfAbsent(offset, value);
                        if (known != null && !known.equals(value)) {
                            checks.violation("broker " + b.id + "'s replica of " + tp + " holds " + value + " at offset "
                                    + offset + " below its high watermark " + p.highWatermark() + ", where " + known
                                    + " was committed");
                        }
                    });
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }

    private void finalChecks() throws IOException {
        sample();
        if (topicDeletion != null) topicDeletion.check(runningBrokers());
        if (reassignment != null) reassignment.check(runningBrokers());
        for (TopicPartition tp : partitions) {
            Partition leader = null;
            int leaderId = -1;
            for (SimBroker b : runningBrokers()) {
                Partition p = b.leaderPartition(tp);
                if (p != null && (leader == null || p.leaderEpoch() > leader.leaderEpoch())) {
                    leader = p;
                    leaderId = b.id;
                }
            }
            if (leader == null) {
                checks.violation(tp + " has no leader " + SETTLE_MS + " ms after every fault healed");
                continue;
            }
            TreeMap<Long, Long> log = SimRecords.below(leader, leader.logEndOffset());
            checks.record("final leader " + leaderId + " of " + tp + " at epoch " + leader.leaderEpoch() + ", HW "
                    + leader.highWatermark() + ", ISR " + leader.inSyncReplicas() + ": " + log);
            java.util.Set<Long> values = new java.util.HashSet<>(log.values());
            for (long value : acked.get(tp)) {
                // The model: an acknowledged value may be lost only when an unclean leader of a later epoch took the
                // lead without it, and the first to do so was outside the ISR that acknowledged it. (A value such a
                // leader lacked may still end in the final log: a later unclean leader that never followed it kept it.)
                int lostBy = values.contains(value) ? -1
                        : unclean.acknowledgedLostBy(tp, value, ackEpochs.get(value));
                if (lostBy >= 0 && ackIsrs.get(value).contains(lostBy)) {
                    checks.violation("acknowledged value " + value + " of " + tp + " was lost when out-of-sync replica "
                            + lostBy + " took the lead, yet it was in the ISR " + ackIsrs.get(value)
                            + " that acknowledged the value");
                } else if (lostBy >= 0) {
                    checks.count("acknowledged record lost to unclean election");
                } else if (!values.contains(value)) {
                    checks.violation("acknowledged value " + value + " of " + tp + " is not in the log of its final"
                            + " leader " + leaderId);
                }
            }
            // Liveness, after every fault healed: each replica holds the leader's log and is back in the ISR.
            for (SimBroker b : runningBrokers()) {
                Partition p = b.logs.get(tp);
                if (b.id == leaderId) continue;
                if (p == null || !SimRecords.below(p, p.logEndOffset()).equals(log)) {
                    liveness("broker " + b.id + "'s replica of " + tp + " did not catch up with leader " + leaderId
                            + " after every fault healed (its log end " + (p == null ? "none" : p.logEndOffset()
                            + ", epochs " + p.log().leaderEpochs().entries() + ", follows " + p.leaderId()
                            + " at epoch " + p.leaderEpoch()) + "; the leader's log end "
                            + leader.logEndOffset() + ", HW " + leader.highWatermark() + ", epochs "
                            + leader.log().leaderEpochs().entries() + ", epoch " + leader.leaderEpoch() + ")");
                }
            }
            if (leader.inSyncReplicas().size() != BROKER_IDS.length) {
                liveness(tp + "'s ISR is " + leader.inSyncReplicas() + " after every fault healed");
            }
            for (SimIdempotentProducer producer : idempotentProducers) {
                producer.check(tp, leader, leaderId, livenessChecked);
            }
            if (transactions != null) transactions.check(tp, leader, leaderId, livenessChecked);
            compare("consumed", tp, consumed.get(tp), log, leaderId);
            compare("committed", tp, committed.get(tp), log, leaderId);
            checks.count("partitions checked at the end");
        }
    }

    /**
     * An unclean election's leader took the lead of {@code tp} with {@code survivor} (offset to value): the committed
     * and consumed records it lacks are gone, each counted, and a consumer past where the logs agree goes back there,
     * as Kafka's consumer does on the diverging epoch (KIP-320) with its auto.offset.reset policy.
     */
    void survivors(TopicPartition tp, TreeMap<Long, Long> survivor) {
        committed.get(tp).entrySet().removeIf(e -> {
            boolean gone = !e.getValue().equals(survivor.get(e.getKey()));
            if (gone) checks.count("committed record lost to unclean election");
            return gone;
        });
        long agreed = consumerPosition.get(tp);
        for (Map.Entry<Long, Long> e : consumed.get(tp).entrySet()) {
            if (!e.getValue().equals(survivor.get(e.getKey()))) {
                agreed = Math.min(agreed, e.getKey());
                checks.count("consumed record lost to unclean election");
            }
        }
        consumed.get(tp).tailMap(agreed, true).clear();
        consumerPosition.put(tp, agreed);
    }

    /**
     * A replica that never catches up once everything healed: a violation (since the causes of seeds 14, 15 and 86
     * were fixed), or only counted with {@code -Dreplsim.liveness=false}.
     */
    private void liveness(String what) {
        if (livenessChecked) {
            checks.violation(what);
        } else {
            checks.count("liveness: replica not caught up or not in the ISR after healing");
        }
    }

    private void compare(String what, TopicPartition tp, TreeMap<Long, Long> expected, TreeMap<Long, Long> log,
                         int leaderId) {
        for (Map.Entry<Long, Long> e : expected.entrySet()) {
            Long now = log.get(e.getKey());
            if (!e.getValue().equals(now)) {
                checks.violation(what + " record " + e.getValue() + " at offset " + e.getKey() + " of " + tp
                        + " vanished: the final leader " + leaderId + " has " + now + " there");
            }
        }
    }
}
