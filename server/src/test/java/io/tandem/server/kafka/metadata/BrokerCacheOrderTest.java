package io.tandem.server.kafka.metadata;

import org.junit.jupiter.api.Test;
import scala.collection.mutable.LongMap;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Kafka 3.9's ZooKeeper-mode cache lists its live brokers in a Scala {@code mutable.LongMap}'s order (ZkMetadataCache
 * rebuilds one per UpdateMetadata, sized by the previous broker count); Tandem's reproduction is checked against the
 * real map (scala-library, test scope) over many id sets, insertion orders and size hints, colliding slots and
 * growth included.
 */
class BrokerCacheOrderTest {
    @Test
    void shouldListBrokersAsKafkasCacheMapDoes() {
        // Seen on the real map: 0 first, then slot order, so three brokers 0, 1, 2 are walked 0, 2, 1.
        assertEquals(List.of(0, 2, 1), BrokerCacheOrder.of(List.of(0, 1, 2), 3));
        assertEquals(List.of(2, 3, 1), BrokerCacheOrder.of(List.of(1, 2, 3), 3));
        Random random = new Random(24);
        for (int round = 0; round < 20_000; round++) {
            int count = 1 + random.nextInt(random.nextBoolean() ? 10 : 60);
            int span = random.nextBoolean() ? count + 3 : 5000;
            Set<Integer> ids = new LinkedHashSet<>();
            while (ids.size() < count) ids.add(random.nextInt(span));
            int sizeHint = random.nextInt(3) == 0 ? random.nextInt(70) : count;
            assertEquals(kafkasOrder(List.copyOf(ids), sizeHint), BrokerCacheOrder.of(List.copyOf(ids), sizeHint),
                    ids + " size hint " + sizeHint);
        }
    }

    /** The ids as a LongMap built the way ZkMetadataCache.updateMetadata builds its aliveBrokers lists them. */
    static List<Integer> kafkasOrder(List<Integer> ids, int sizeHint) {
        LongMap<Object> map = new LongMap<>(sizeHint);
        for (int id : ids) map.update((long) id, (Object) id);
        List<Integer> order = new ArrayList<>();
        scala.collection.Iterator<Object> values = map.values().iterator();
        while (values.hasNext()) order.add((Integer) values.next());
        return order;
    }
}
