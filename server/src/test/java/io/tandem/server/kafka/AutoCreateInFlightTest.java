package io.tandem.server.kafka;

import static io.tandem.server.kafka.CreationCalls.topicMetadata;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.HoldingProxy;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A topic asked for by a second Metadata request while the first request's auto-creation is still writing it: Kafka
 * 3.9's DefaultAutoTopicCreationManager keeps the topics in flight and answers the second request
 * UNKNOWN_TOPIC_OR_PARTITION at once, writing nothing; the first is answered LEADER_NOT_AVAILABLE once written. The
 * broker's ZooKeeper connection runs through a proxy that holds what the broker sends, so the first write stays in
 * flight as long as the test wants.
 */
class AutoCreateInFlightTest {
    /** How long the broker's writes are held: far below its ZooKeeper session timeout. */
    private static final long HOLD_MS = 3_000;

    @TempDir
    Path dir;

    @Test
    void shouldAnswerUnknownTopicToASecondRequestWhileTheFirstStillCreatesTheTopic() throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             HoldingProxy proxy = new HoldingProxy(zookeeper.zookeeperPort());
             Tandem broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("zookeeper.connect", "127.0.0.1:" + proxy.port())
                     .set("auto.create.topics.enable", "true").set("num.partitions", "1"));
             OfficialClientConnection first = new OfficialClientConnection(broker.kafkaPort());
             OfficialClientConnection second = new OfficialClientConnection(broker.kafkaPort())) {
            // Both connections are past their handshake-free first request before the hold.
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), topicMetadata(first, false, "contended").errorCode());
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), topicMetadata(second, false, "contended").errorCode());

            proxy.hold();
            CompletableFuture<MetadataResponseTopic> creating = CompletableFuture.supplyAsync(() -> {
                try {
                    return topicMetadata(first, true, "contended");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long heldAt = System.nanoTime();
            // The first request is at its ZooKeeper write once its read reached the proxy (what is held first may be a
            // ping of the broker's session: the request gets there within the pause after it all the same).
            while (proxy.heldBytes() == 0) {
                assertTrue(System.nanoTime() - heldAt < TimeUnit.MILLISECONDS.toNanos(HOLD_MS), "nothing was written");
                Thread.sleep(10);
            }
            Thread.sleep(300);
            CompletableFuture<MetadataResponseTopic> meanwhile = CompletableFuture.supplyAsync(() -> {
                try {
                    return topicMetadata(second, true, "contended");
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            MetadataResponseTopic inFlight;
            try {
                inFlight = meanwhile.get(HOLD_MS, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                proxy.release();
                throw new AssertionError("the second request waited for the first one's creation", e);
            }
            assertFalse(creating.isDone(), "the first request is still writing");
            proxy.release();
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), inFlight.errorCode(), inFlight.toString());
            assertEquals(List.of(), inFlight.partitions());

            MetadataResponseTopic created = creating.get(30, TimeUnit.SECONDS);
            assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), created.errorCode(), created.toString());
            // Written once: once the controller has elected its leader, the topic is there with one partition.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            MetadataResponseTopic led = topicMetadata(second, false, "contended");
            while (led.errorCode() != Errors.NONE.code() || led.partitions().get(0).leaderId() < 0) {
                assertTrue(System.nanoTime() < deadline, "never led: " + led);
                Thread.sleep(20);
                led = topicMetadata(second, false, "contended");
            }
            assertEquals(1, led.partitions().size());
        }
    }
}
