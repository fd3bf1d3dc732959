package io.tandem.server.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.tandem.server.zookeeper.ZkRequestObserver;
import io.tandem.server.zookeeper.ZooKeeperRole;
import io.tandem.zk.wire.OpCode;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The ZooKeeper server's meters: request rate and latency per op (a Prometheus histogram per op code, from arrival to
 * answer), bytes in and out, the server state (Zab role), and every figure {@code mntr} reports plus Tandem's own that
 * Apache's mntr has no key for (group commit, Zab), read once per scrape from the same code that answers mntr (so the
 * two never disagree) and named {@code tandem_zookeeper_<key>}.
 */
final class ZooKeeperMetrics implements ZkRequestObserver {
    /** Apache's server states: standalone, or an ensemble member's leader, follower, observer, read-only, looking. */
    static final List<String> STATES = List.of("standalone", "leader", "follower", "observer", "read-only", "looking");
    /** mntr keys published as meters of their own (bytes, state) rather than as plain gauges. */
    private static final List<String> OWN_METERS = List.of("bytes_received_count", "response_bytes", "version",
            "server_state");
    /**
     * mntr keys only an ensemble's leader has (Apache's LeaderZooKeeperServer gauges), published on every ensemble
     * member: one that becomes leader after start would otherwise never get them. Not a number while it does not lead.
     */
    static final List<String> LEADER_KEYS = List.of("learners", "synced_followers", "synced_non_voting_followers",
            "synced_observers", "pending_syncs", "leader_uptime", "last_proposal_size", "max_proposal_size",
            "min_proposal_size");
    /** How long a scrape waits for the commit thread to read the figures. */
    static final long SNAPSHOT_WAIT_MS = 5_000;

    private final ZooKeeperRole zookeeper;
    private final MeterRegistry registry;
    private final Map<Integer, Timer> timers = new ConcurrentHashMap<>();
    /** On an ensemble's leader: Zab's proposal-to-commit time (issue 13); created at the first commit it times. */
    private volatile Timer zabCommit;
    private final AtomicReference<Map<String, Object>> snapshot = new AtomicReference<>(Map.of());

    ZooKeeperMetrics(ZooKeeperRole zookeeper, MeterRegistry registry) throws Exception {
        this.zookeeper = zookeeper;
        this.registry = registry;
        refresh();
        Set<String> keys = new LinkedHashSet<>();
        for (Map.Entry<String, Object> entry : snapshot.get().entrySet()) {
            if (entry.getValue() instanceof Number && !OWN_METERS.contains(entry.getKey())) keys.add(entry.getKey());
        }
        if (zookeeper.myId() > 0) keys.addAll(LEADER_KEYS); // a standalone server never leads
        for (String key : keys) {
            Gauge.builder("tandem.zookeeper." + key, () -> number(key)).description("mntr's zk_" + key)
                    .register(registry);
        }
        FunctionCounter.builder("tandem.zookeeper.network.bytes", this, m -> m.number("bytes_received_count"))
                .tag("direction", "in").description("Bytes of ZooKeeper request frames").baseUnit("bytes")
                .register(registry);
        FunctionCounter.builder("tandem.zookeeper.network.bytes", this, m -> m.number("response_bytes"))
                .tag("direction", "out").description("Bytes of ZooKeeper answers and notifications")
                .baseUnit("bytes").register(registry);
        for (String state : STATES) {
            Gauge.builder("tandem.zookeeper.server.state", () -> state.equals(snapshot.get().get("server_state"))
                    ? 1 : 0).tag("state", state).description("1 for this server's state (the Zab role), else 0")
                    .register(registry);
        }
    }

    /** Before each scrape: mntr's figures, read on the commit thread. */
    void refresh() throws Exception {
        snapshot.set(zookeeper.metricValues().get(SNAPSHOT_WAIT_MS, TimeUnit.MILLISECONDS));
    }

    private double number(String key) {
        return snapshot.get().get(key) instanceof Number number ? number.doubleValue() : Double.NaN;
    }

    @Override
    public void zabCommitted(long latencyNanos) {
        Timer timer = zabCommit;
        if (timer == null) {
            timer = Timer.builder("tandem.zab.commit")
                    .description("Zab proposals on this leader, from proposal to commit (a quorum's durable acks)")
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(100_000))
                    .maximumExpectedValue(Duration.ofSeconds(60))
                    .register(registry);
            zabCommit = timer;
        }
        timer.record(latencyNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void answered(int opCode, long latencyNanos) {
        timers.computeIfAbsent(opCode, op -> Timer.builder("tandem.zookeeper.request")
                .description("ZooKeeper requests from arrival to answer, per op")
                .tag("op", OpCode.name(op))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry)).record(latencyNanos, TimeUnit.NANOSECONDS);
    }
}
