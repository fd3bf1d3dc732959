package io.tandem.server.kafka.producer;

/**
 * Hands out producer ids for InitProducerId from blocks reserved durably (in ZooKeeper's
 * {@code /latest_producer_id_block}, as Kafka 3.9 does), so ids are never reused after a restart.
 */
public final class ProducerIdManager {
    /** Kafka's block size: one ZooKeeper write per thousand producers. */
    public static final long BLOCK_SIZE = 1000;

    /** Reserves the next block and returns its first id; must be durable before returning. */
    @FunctionalInterface
    public interface BlockReserver {
        long reserveBlock(long blockSize) throws Exception;
    }

    private final BlockReserver reserver;
    private long next;
    private long blockEnd;

    public ProducerIdManager(BlockReserver reserver) {
        this.reserver = reserver;
    }

    public synchronized long nextProducerId() throws Exception {
        if (next >= blockEnd) {
            long start = reserver.reserveBlock(BLOCK_SIZE);
            next = start;
            blockEnd = start + BLOCK_SIZE;
        }
        return next++;
    }
}
