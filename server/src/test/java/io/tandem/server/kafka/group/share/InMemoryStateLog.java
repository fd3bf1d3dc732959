package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@code __share_group_state} for share-group tests without brokers: one partition, led here, its records kept in
 * {@link #records} in append order; in memory, so every append is committed at once.
 */
final class InMemoryStateLog implements ShareStateCoordinator.StateLog {
    final List<byte[][]> records = new ArrayList<>();

    @Override
    public int partitionCount() {
        return 1;
    }

    @Override
    public boolean leads(int partition) {
        return true;
    }

    @Override
    public synchronized long append(int partition, List<byte[][]> keyValues) {
        long first = records.size();
        records.addAll(keyValues);
        return first;
    }

    @Override
    public void prune(int partition, long offset) {
    }

    @Override
    public synchronized long endOffset(int partition) {
        return records.size();
    }

    @Override
    public void whenCommitted(int partition, long offset, Consumer<Short> then) {
        then.accept((short) 0);
    }
}
