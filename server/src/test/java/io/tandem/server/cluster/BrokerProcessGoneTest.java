package io.tandem.server.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A SIGKILLed broker keeps its ZooKeeper registration until its session expires; its host, though, refuses
 * connections to its port at once. The controller notices that (BrokerProcessProbe) and moves the broker's leaderships
 * well before the session ends: here the session timeout is 30 s and the leaderships must move within 15 s, while the
 * dead broker is still registered. Restarted, the broker registers again and is back in every ISR. Then the same for
 * the controller's broker: the others see its port refuse, delete its {@code /controller} and elect another. Brokers
 * are reached directly (no proxy in front of them, which would answer for a dead broker).
 */
// A hang guard, not under test: the start on a loaded machine, then 150 s for the rest.
@Timeout(value = ProcessCluster.START_AWAIT_S + 150, unit = TimeUnit.SECONDS)
class BrokerProcessGoneTest {
    private static final String TOPIC = "gone";
    private static final int PARTITIONS = 3;
    private static final int SESSION_TIMEOUT_MS = 30_000;

    @TempDir
    Path dir;
    private ProcessCluster cluster;

    @AfterEach
    void stopEverything() throws Exception {
        if (cluster != null) cluster.close();
    }

    /**
     * SIGKILLs {@code victim} and waits for new leaders of the partitions it led, which must come well before its
     * session could have ended (it is still registered then); checks that they take acks=all records; restarts it.
     */
    private void killAndAwaitMoves(int victim, String what, boolean controller) throws Exception {
        Set<Integer> led = cluster.ledBy(victim, TOPIC, PARTITIONS);
        long killedAt = System.nanoTime();
        cluster.kill(victim);
        for (int p : led) {
            int partition = p;
            cluster.await("a new leader for partition " + p, () -> {
                int now = cluster.leader(TOPIC, partition);
                return now != victim && now >= 0 ? true : null;
            });
        }
        if (controller) {
            int next = cluster.await("a new controller", () -> {
                int now = cluster.controllerId();
                return now > 0 && now != victim ? now : null;
            });
            System.out.println("BrokerProcessGoneTest: controller " + victim + " replaced by " + next);
        }
        long movedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
        boolean stillRegistered = cluster.brokersRegistered().contains(Integer.toString(victim));
        System.out.println("BrokerProcessGoneTest: " + what + " (broker " + victim + ") killed; partitions " + led
                + (controller ? " and the controller role" : "") + " had new leaders after " + movedMs + " ms (session timeout " + SESSION_TIMEOUT_MS
                + " ms); still registered then: " + stillRegistered);
        assertTrue(movedMs < SESSION_TIMEOUT_MS / 2, "leaderships moved only after " + movedMs + " ms");
        assertTrue(stillRegistered, "the dead broker's session ended already: the test proves nothing");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000",
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000"),
                new StringSerializer(), new StringSerializer())) {
            for (int p : led) {
                producer.send(new ProducerRecord<>(TOPIC, p, "k", "after the kill")).get(30, TimeUnit.SECONDS);
            }
        }
        cluster.start(victim);
        cluster.awaitAllInSync(TOPIC, PARTITIONS, "broker " + victim + " restarted");
    }

    @Test
    void aKilledBrokersLeadershipsMoveWhenItsPortRefusesConnectionsNotWhenItsSessionEnds() throws Throwable {
        Map<String, String> settings = new HashMap<>(KafkaClusterProcessTest.clusterSettings());
        settings.put("zookeeper.session.timeout.ms", Integer.toString(SESSION_TIMEOUT_MS));
        cluster = new ProcessCluster(dir, 3, settings, false);
        try {
            cluster.startAll();
            cluster.createTopic(TOPIC, PARTITIONS, 3);
            cluster.awaitAllInSync(TOPIC, PARTITIONS, "the new topic");
            int controller = cluster.controllerId();
            int victim = -1;
            for (int id = 1; id <= 3 && victim < 0; id++) {
                if (id != controller && !cluster.ledBy(id, TOPIC, PARTITIONS).isEmpty()) victim = id;
            }
            assertTrue(victim > 0, "no broker other than the controller leads a partition");
            killAndAwaitMoves(victim, "a partition leader", false);
            // The controller's own death: the other brokers see its port refuse and elect another at once.
            killAndAwaitMoves(cluster.controllerId(), "the controller", true);
        } catch (Throwable t) {
            cluster.printLogDigests();
            throw t;
        }
    }
}
