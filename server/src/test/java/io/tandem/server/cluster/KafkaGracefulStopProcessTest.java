package io.tandem.server.cluster;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node stopped the way an operator stops it (SIGTERM, as Ctrl-C): its broker closes its ZooKeeper session, so its
 * registration, and /controller when it is the controller, go at once; then its ZooKeeper member stops. When that
 * member led the ensemble, the others elect a new leader at that very moment and drop their client connections, so
 * the controller's reaction to the departure (or the other brokers' run for controller) meets CONNECTION_LOSS. It
 * must happen anyway, as Kafka's controller retries its ZooKeeper requests across a reconnect: the stopped node's
 * partitions get new leaders and a controller is elected. This is how a rolling restart stops every node once.
 *
 * <p>The two cases share one cluster, each on its own topic: each leaves every node running and in sync, and a failed
 * case closes the cluster so the next starts a new one.
 */
// A hang guard, not under test: the start on a loaded machine, then 150 s for the rest.
@Timeout(value = ProcessCluster.START_AWAIT_S + 150, unit = TimeUnit.SECONDS)
class KafkaGracefulStopProcessTest extends SequenceLoadProcessTest {
    private static final String NAME = "KafkaGracefulStopProcessTest";
    private static final int PARTITIONS = 3;
    /** Forced controller elections before giving up on placing the controller (each lands on one of three). */
    private static final int ELECTIONS_MAX = 30;
    /**
     * A stopped node's session ends at once, so its partitions move within a second or two; far longer means they
     * never will (a generous bound for a loaded machine, shorter than the general wait to fail sooner).
     */
    private static final long FAILOVER_MS_MAX = 45_000;

    @Test
    void stoppingTheNodeThatLeadsZooKeeperAndIsTheControllerMovesItsPartitionsAndTheController() throws Throwable {
        run(true);
    }

    @Test
    void stoppingTheNodeThatLeadsZooKeeperButNotTheControllerMovesItsPartitions() throws Throwable {
        run(false);
    }

    @TempDir
    static Path sharedDir;
    private static ProcessCluster shared;
    private static boolean started;

    @AfterAll
    static void closeShared() throws Exception {
        if (shared != null) shared.close();
        shared = null;
        started = false;
    }

    @Override
    boolean clusterOutlivesTest() {
        return true;
    }

    private void run(boolean alsoController) throws Throwable {
        if (shared == null) {
            // A directory of its own: after a failed case the next one starts a new cluster beside the old one's files.
            shared = new ProcessCluster(Files.createTempDirectory(sharedDir, "cluster"), 3,
                    KafkaClusterProcessTest.clusterSettings());
        }
        cluster = shared;
        String topic = alsoController ? "sequence-controller" : "sequence-not-controller";
        try {
            if (!started) {
                shared.startAll();
                started = true;
            }
            produceTo(topic, PARTITIONS, 1_000);
            long loaded = producer.ackCount() + 500;
            cluster.await("the first acknowledged records", () -> producer.ackCount() >= loaded ? true : null);
            stopAndRestartTheZooKeeperLeadersNode(topic, alsoController);
            producer.finish();
            producer.verifyEveryAcknowledgedRecordOnce(NAME);
        } catch (Throwable t) {
            cluster.printLogDigests();
            closeShared();
            throw t;
        }
    }

    /**
     * Stops (SIGTERM) the node whose ZooKeeper member leads the ensemble, after moving the Kafka controller onto that
     * node or off it (by deleting /controller until the election lands as wanted); waits for the partitions it led
     * to be acknowledged again and for a controller on another node, then restarts it and waits for it to catch up.
     */
    private void stopAndRestartTheZooKeeperLeadersNode(String topic, boolean alsoController) throws Exception {
        int node = cluster.await("a ZooKeeper leader", () -> {
            int leader = cluster.zookeeperLeader();
            return leader > 0 ? leader : null;
        });
        int controller = cluster.controllerId();
        for (int attempt = 0; (controller == node) != alsoController; attempt++) {
            if (attempt == ELECTIONS_MAX) {
                throw new AssertionError("the controller never landed " + (alsoController ? "on" : "off")
                        + " node " + node + " in " + ELECTIONS_MAX + " elections");
            }
            controller = cluster.reelectControllerAndAwaitIt();
        }
        String what = "node " + node + " (ZooKeeper leader" + (alsoController ? " and Kafka controller"
                : "; controller " + controller);
        Set<Integer> led = cluster.ledBy(node, topic, PARTITIONS);
        SequenceProducer.Failover failover = producer.watchFailover(led);
        cluster.stop(node);
        cluster.await("an acknowledged record of partitions " + led + " after " + what + ") stopped",
                FAILOVER_MS_MAX, () -> failover.firstAckNanos().get() != 0 ? true : null);
        cluster.await("a live controller after " + what + ") stopped", FAILOVER_MS_MAX, () -> {
            int now = cluster.controllerId();
            return now > 0 && now != node ? true : null;
        });
        System.out.println(NAME + ": " + what + ", leading partitions " + led + ") stopped with SIGTERM; next"
                + " acknowledged record after " + failover.millis() + " ms");
        cluster.start(node);
        cluster.awaitAllInSync(topic, PARTITIONS, "node " + node + " restarted");
    }
}
