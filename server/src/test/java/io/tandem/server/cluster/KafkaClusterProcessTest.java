package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three real Tandem processes, each a ZooKeeper ensemble member and a Kafka broker (broker.id = myid, metadata in the
 * ensemble they form), under an idempotent acks=all producer writing a numbered sequence to a three-partition topic
 * with three replicas and min.insync.replicas=2. The leader of partition 0 is killed with SIGKILL and restarted,
 * then the Kafka controller's node, then one follower of partition 0 is cut off from every leader (the proxy in front
 * of each broker drops its replica fetches) until it leaves the ISR, and healed. Each time the cluster must come back
 * with every replica in sync. Afterwards every acknowledged record is read back at its acknowledged offset, exactly
 * once and in order per partition. Each kill prints the time to the next acknowledged record of the partitions the
 * killed node led.
 */
// A hang guard, not under test: the start on a loaded machine, then 150 s for the rest.
@Timeout(value = ProcessCluster.START_AWAIT_S + 150, unit = TimeUnit.SECONDS)
class KafkaClusterProcessTest extends SequenceLoadProcessTest {
    private static final String NAME = "KafkaClusterProcessTest";
    private static final int NODES = 3;
    /** The brokers' ZooKeeper sessions: a killed broker is noticed (and its partitions move) after this. */
    static final int BROKER_SESSION_TIMEOUT_MS = 6_000;
    /** A follower cut off for longer leaves the ISR. */
    static final int REPLICA_LAG_TIME_MAX_MS = 5_000;
    private static final String TOPIC = "sequence";
    private static final int PARTITIONS = 3;

    /** What every node of the Kafka cluster tests runs with on top of the ensemble and broker basics. */
    static Map<String, String> clusterSettings() {
        return Map.of(
                "zookeeper.session.timeout.ms", Integer.toString(BROKER_SESSION_TIMEOUT_MS),
                "offsets.topic.replication.factor", "3",
                "default.replication.factor", "3",
                "min.insync.replicas", "2",
                "replica.lag.time.max.ms", Integer.toString(REPLICA_LAG_TIME_MAX_MS));
    }

    @Test
    void acknowledgedRecordsSurviveLeaderAndControllerKillsAndAFollowerCutOff() throws Throwable {
        cluster = new ProcessCluster(dir, NODES, clusterSettings());
        long began = System.nanoTime();
        try {
            cluster.startAll();
            phase(began, "three nodes serving ZooKeeper and Kafka");
            produceTo(TOPIC, PARTITIONS, 2_000);
            long loaded = producer.ackCount() + 1_000;
            cluster.await("the first acknowledged records", () -> producer.ackCount() >= loaded ? true : null);
            phase(began, "producing");

            killAndRestart(cluster.leader(TOPIC, 0), "leader of partition 0");
            phase(began, "leader of partition 0 back in sync");
            killAndRestart(cluster.controllerId(), "Kafka controller");
            phase(began, "controller's node back in sync");
            cutOffFollower();
            phase(began, "cut-off follower back in sync");

            producer.finish();
            producer.verifyEveryAcknowledgedRecordOnce(NAME);
            phase(began, "verified");
        } catch (Throwable t) {
            cluster.printLogDigests();
            throw t;
        }
    }

    /** SIGKILLs {@code id}, prints the time to the next acknowledged record of what it led, restarts it. */
    private void killAndRestart(int id, String what) throws Exception {
        Set<Integer> led = cluster.ledBy(id, TOPIC, PARTITIONS);
        SequenceProducer.Failover failover = producer.watchFailover(led);
        cluster.kill(id);
        cluster.await("an acknowledged record after the kill of the " + what + " (node " + id + ")",
                () -> failover.firstAckNanos().get() != 0 ? true : null);
        System.out.println(NAME + ": " + what + " (node " + id + ", leading partitions " + led
                + ") killed with SIGKILL; next acknowledged record " + (led.isEmpty() ? "" : "of those partitions ")
                + "after " + failover.millis() + " ms");
        for (int p : led) {
            int partition = p;
            cluster.await("a new leader for partition " + p, () -> {
                int now = cluster.leader(TOPIC, partition);
                return now != id && now >= 0 ? true : null;
            });
        }
        cluster.start(id);
        cluster.awaitAllInSync(TOPIC, PARTITIONS, "node " + id + " restarted");
    }

    /**
     * Cuts one follower of partition 0 off from every leader: the leader drops it from the ISR after
     * replica.lag.time.max.ms and acks=all records keep being acknowledged by the two left (min.insync.replicas=2);
     * once healed it catches up and is back in every ISR.
     */
    private void cutOffFollower() throws Exception {
        int leader = cluster.leader(TOPIC, 0);
        int follower = cluster.isr(TOPIC, 0).stream().filter(r -> r != leader).reduce((a, b) -> b).orElseThrow();
        long cutAt = System.nanoTime();
        for (int id = 1; id <= NODES; id++) cluster.proxy(id).cutReplica(follower);
        cluster.await("broker " + follower + " out of partition 0's ISR",
                () -> cluster.isr(TOPIC, 0).contains(follower) ? null : true);
        long shrunkMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - cutAt);
        long before = producer.acknowledged(0);
        cluster.await("partition 0 acknowledging without broker " + follower,
                () -> producer.acknowledged(0) >= before + 200 ? true : null);
        assertFalse(cluster.isr(TOPIC, 0).contains(follower), "still cut off");
        System.out.println(NAME + ": follower " + follower + " of partition 0 cut off from the leaders; out of the ISR"
                + " after " + shrunkMs + " ms, records kept being acknowledged by leader " + leader);
        for (int id = 1; id <= NODES; id++) cluster.proxy(id).healReplica(follower);
        cluster.awaitAllInSync(TOPIC, PARTITIONS, "follower " + follower + " healed");
    }

    private static void phase(long began, String what) {
        System.out.println(NAME + ": " + what + " at " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began)
                + " ms");
    }
}
