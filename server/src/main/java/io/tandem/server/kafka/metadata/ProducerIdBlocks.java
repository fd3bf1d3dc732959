package io.tandem.server.kafka.metadata;

/**
 * Producer id blocks in {@code /latest_producer_id_block}, reserved as Kafka 3.9's ZkProducerIdManager does: read the
 * last block with its version, write the next one only if nobody wrote in between, else read again. Brokers of a
 * mixed cluster reserve from the same node (a Tandem broker directly, an Apache broker through the controller's
 * AllocateProducerIds), so the conditional write is what keeps two brokers from handing out the same ids.
 */
public final class ProducerIdBlocks {
    private ProducerIdBlocks() {
    }

    /** Reserves the block after the last one for {@code brokerId}; returns its first id. */
    public static long reserve(ZnodeStore store, int brokerId, long blockSize) throws Exception {
        while (true) {
            ZnodeStore.Versioned current = store.getVersioned(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK);
            long lastEnd = KafkaZkLayout.decodeProducerIdBlockEnd(current == null ? null : current.data());
            if (lastEnd > Long.MAX_VALUE - blockSize) {
                throw new IllegalStateException("producer ids exhausted: the last block ends at " + lastEnd);
            }
            long start = lastEnd + 1;
            byte[] next = KafkaZkLayout.encodeProducerIdBlock(brokerId, start, start + blockSize - 1);
            if (current == null) {
                if (store.create(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK, next, false)) return start;
            } else if (store.setDataIfVersion(KafkaZkLayout.LATEST_PRODUCER_ID_BLOCK, next, current.version())) {
                return start;
            }
        }
    }
}
