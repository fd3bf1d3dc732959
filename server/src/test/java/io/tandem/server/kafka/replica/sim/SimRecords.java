package io.tandem.server.kafka.replica.sim;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.record.Record;
import io.tandem.kafka.wire.record.RecordBatch;
import io.tandem.kafka.wire.record.RecordBatches;
import io.tandem.kafka.wire.record.RecordIterator;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LogSlice;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/** The simulation's records as its checks read them from a replica's log: each one's offset, value and epoch. */
final class SimRecords {
    private SimRecords() {
    }

    /** {offset, value, leader epoch} of every record in the slice. */
    static List<long[]> of(LogSlice slice) throws IOException {
        List<long[]> out = new ArrayList<>();
        ByteBuf bytes = slice.readBytes(SimBroker.BUFFERS);
        try {
            for (RecordBatch batch : RecordBatches.of(bytes)) {
                if (batch.isControl()) continue;
                try (RecordIterator it = batch.records()) {
                    while (it.hasNext()) {
                        Record r = it.next();
                        out.add(new long[] {r.offset(), r.value().getLong(r.value().readerIndex()),
                                batch.partitionLeaderEpoch()});
                    }
                }
            }
        } finally {
            bytes.release();
        }
        return out;
    }

    /** Every batch of the replica's log from its log start to its log end, in order, each once. */
    static void forEachBatch(Partition p, java.util.function.Consumer<RecordBatch> each) throws IOException {
        long offset = p.logStartOffset();
        long end = p.logEndOffset();
        while (offset < end) {
            LogSlice slice = p.log().read(offset, 1 << 20, end, true);
            if (slice.isEmpty()) break;
            ByteBuf bytes = slice.readBytes(SimBroker.BUFFERS);
            try {
                for (RecordBatch batch : RecordBatches.of(bytes)) {
                    if (batch.baseOffset() >= offset) each.accept(batch);
                }
            } finally {
                bytes.release();
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
    }

    /** {offset -> value} of the replica's records in [its log start, {@code upTo}). */
    static TreeMap<Long, Long> below(Partition p, long upTo) throws IOException {
        return below(p, upTo, null);
    }

    /** The same without the records an unclean election lost ({@code lost} null: with every record). */
    static TreeMap<Long, Long> below(Partition p, long upTo, SimUncleanElections lost)
            throws IOException {
        TreeMap<Long, Long> out = new TreeMap<>();
        long offset = p.logStartOffset();
        while (offset < upTo) {
            LogSlice slice = p.log().read(offset, 1 << 20, upTo, true);
            if (slice.isEmpty()) break;
            for (long[] r : of(slice)) {
                if (r[0] >= upTo) continue;
                // Not yet truncated away on this replica (its high watermark may still cover it): set aside.
                if (lost != null && lost.lost(p.topicPartition(), r[0], r[1], (int) r[2])) continue;
                out.put(r[0], r[1]);
            }
            if (slice.nextOffset() <= offset) break;
            offset = slice.nextOffset();
        }
        return out;
    }
}
