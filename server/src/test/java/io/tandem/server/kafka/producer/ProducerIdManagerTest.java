package io.tandem.server.kafka.producer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The first producer id block is reserved as the broker starts (Kafka 3.9's ZkProducerIdManager does it in its
 * constructor), so a broker's first InitProducerId writes nothing; a failed start-up reservation is retried by it.
 */
class ProducerIdManagerTest {
    /** A store of blocks that records every reservation and can be made to fail. */
    private static final class Blocks implements ProducerIdManager.BlockReserver {
        final List<Long> reserved = new ArrayList<>();
        long last = -1;
        boolean away;

        @Override
        public long reserveBlock(long blockSize) throws Exception {
            if (away) throw new IllegalStateException("the store is away");
            long start = last + 1;
            last = start + blockSize - 1;
            reserved.add(start);
            return start;
        }
    }

    @Test
    void theFirstInitProducerIdShouldNotWriteTheBlockReservedAtStartUp() throws Exception {
        Blocks blocks = new Blocks();
        ProducerIdManager ids = new ProducerIdManager(blocks);
        ids.reserveFirstBlock();
        assertEquals(List.of(0L), blocks.reserved, "one block reserved at start-up");
        assertEquals(0, ids.nextProducerId());
        assertEquals(1, ids.nextProducerId());
        assertEquals(List.of(0L), blocks.reserved, "the first producers took ids from it, no write of theirs");
        ids.reserveFirstBlock();
        assertEquals(List.of(0L), blocks.reserved, "a block in use is not replaced");
        for (int i = 2; i < ProducerIdManager.BLOCK_SIZE; i++) ids.nextProducerId();
        assertEquals(ProducerIdManager.BLOCK_SIZE, ids.nextProducerId(), "the next block once this one is used up");
        assertEquals(List.of(0L, ProducerIdManager.BLOCK_SIZE), blocks.reserved);
    }

    @Test
    void aStartUpWithTheStoreAwayShouldLeaveTheReservationToTheFirstInitProducerId() throws Exception {
        Blocks blocks = new Blocks();
        blocks.away = true;
        ProducerIdManager ids = new ProducerIdManager(blocks);
        ids.reserveFirstBlock();
        assertThrows(IllegalStateException.class, ids::nextProducerId, "still away: the request answers the failure");
        blocks.away = false;
        assertEquals(0, ids.nextProducerId());
        assertEquals(List.of(0L), blocks.reserved);
    }
}
