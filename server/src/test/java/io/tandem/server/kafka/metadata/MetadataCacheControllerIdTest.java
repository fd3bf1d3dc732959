package io.tandem.server.kafka.metadata;

import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The controller's id lives in the cache's snapshot, as Kafka 3.9's ZkMetadataCache keeps controllerId in its
 * MetadataSnapshot: an UpdateMetadata replaces it together with the live brokers, so a reader holding one snapshot
 * sees the controller and brokers of one request, never the new controller with the old brokers.
 */
class MetadataCacheControllerIdTest {
    private static BrokerRegistration broker(int id) {
        return new BrokerRegistration(id, "127.0.0.1", 9000 + id, "PLAINTEXT", null, 0);
    }

    @Test
    void shouldReplaceTheControllerWithTheBrokersInOneSnapshot() {
        MetadataCache cache = new MetadataCache();
        assertEquals(-1, cache.snapshot().controllerId(), "no controller known before any request");

        cache.apply(List.of(broker(1), broker(2)), List.of(), Map.of(), List.of(), 1);
        MetadataCache.Snapshot first = cache.snapshot();
        assertEquals(1, first.controllerId());

        cache.apply(List.of(broker(2), broker(3)), List.of(), Map.of(), List.of(), 3);
        MetadataCache.Snapshot second = cache.snapshot();
        assertEquals(3, second.controllerId());
        assertEquals(List.of(2, 3), second.liveBrokers().stream().map(BrokerRegistration::brokerId).toList());
        // The snapshot read before keeps its own controller beside its own brokers.
        assertEquals(1, first.controllerId());
        assertEquals(List.of(1, 2), first.liveBrokers().stream().map(BrokerRegistration::brokerId).toList());

        // A change that names no controller (a single partition's state) keeps it: only UpdateMetadata sets it, as
        // Kafka's ZkMetadataCache (a broker's own election does not, so the cache has no other way in).
        cache.apply(null, List.of(), Map.of(), List.of(), null);
        assertEquals(3, cache.snapshot().controllerId());
        assertEquals(second.liveBrokers(), cache.snapshot().liveBrokers());
        assertEquals(second.topics(), cache.snapshot().topics());
    }
}
