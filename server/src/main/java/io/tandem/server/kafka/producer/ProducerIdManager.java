package io.tandem.server.kafka.producer;

/**
 * Hands out producer ids for InitProducerId from blocks reserved durably (in ZooKeeper's
 * {@code /latest_producer_id_block}, as Kafka 3.9 does), so ids are never reused after a restart.
 *
 * <p>The first block is reserved as the broker starts, before it serves ({@link #reserveFirstBlock}), as Kafka 3.9's
 * ZkProducerIdManager grabs it in its constructor: otherwise the first producer of a broker's life waits for a
 * ZooKeeper write in its InitProducerId (12 of that request's 18 ms in a trace, docs/profiles/kafka-produce.md),
 * and every record it queued meanwhile with it.
 */
public final class ProducerIdManager {
    private static final System.Logger LOG = System.getLogger(ProducerIdManager.class.getName());

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
        reserveIfExhausted();
        return next++;
    }

    /**
     * Reserves the first block now, as the broker starts. When that fails (the store away), the first InitProducerId
     * tries again and answers the failure as before, so a start-up is not failed for it.
     */
    public synchronized void reserveFirstBlock() {
        try {
            reserveIfExhausted();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Producer id block not reserved at start-up (the first "
                    + "InitProducerId will try again): " + e);
        }
    }

    private void reserveIfExhausted() throws Exception {
        if (next >= blockEnd) {
            long start = reserver.reserveBlock(BLOCK_SIZE);
            next = start;
            blockEnd = start + BLOCK_SIZE;
        }
    }
}
