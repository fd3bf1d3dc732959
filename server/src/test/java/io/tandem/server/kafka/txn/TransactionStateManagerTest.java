package io.tandem.server.kafka.txn;

import io.tandem.kafka.wire.Features;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.storage.log.LogConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The state manager over a real {@code __transaction_state} partition on disk: what it writes is what a reload
 * finds, a load answers COORDINATOR_LOAD_IN_PROGRESS until done and hands back the transactions whose markers must
 * be written again, and a lost leadership answers NOT_COORDINATOR.
 */
class TransactionStateManagerTest {
    private static final TransactionConfig CONFIG = new TransactionConfig(900_000, 1, (short) 1, 1, 1 << 20,
            10_000, 604_800_000, 3_600_000);
    @TempDir
    Path dir;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private LogManager logs;
    private Partition partition;
    private long now = 1_000_000;
    private final List<Runnable> callbacks = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        logs = new LogManager(dir, 1, () -> now, scheduler);
        partition = logs.getOrCreate(new TopicPartition(TopicNames.TRANSACTION_STATE, 0), LogConfig.defaults());
        partition.makeLeader(3, List.of(1), 0, List.of(1), now);
    }

    @AfterEach
    void close() throws Exception {
        logs.close();
        scheduler.shutdownNow();
    }

    /** A manager over the partition; replication is immediate (one replica), callbacks run when the test says. */
    private TransactionStateManager manager() {
        TransactionStateLog log = new TransactionStateLog() {
            @Override
            public Partition ledPartition(int index) {
                return partition.isLeader() ? partition : null;
            }

            @Override
            public void whenReplicated(Partition p, long requiredOffset, long timeoutMs, Consumer<Short> then) {
                then.accept(p.highWatermark() >= requiredOffset ? NONE : REQUEST_TIMED_OUT);
            }

            @Override
            public int partitionCount() {
                return 1;
            }
        };
        return new TransactionStateManager(CONFIG, log, callbacks::add, () -> now);
    }

    private void runCallbacks() {
        List<Runnable> pending = new ArrayList<>(callbacks);
        callbacks.clear();
        pending.forEach(Runnable::run);
    }

    private short write(TransactionStateManager manager, String id, TransactionMetadata.Transition t) {
        AtomicReference<Short> result = new AtomicReference<>();
        manager.appendTransition(id, 3, t, e -> false, result::set);
        runCallbacks();
        return result.get();
    }

    private TransactionMetadata loaded(TransactionStateManager manager, String id) {
        return manager.lookup(id).found().metadata();
    }

    @Test
    void whatIsWrittenShouldBeWhatTheNextLeaderLoads() throws Exception {
        TransactionStateManager first = manager();
        first.startLoading(0, 3);
        assertEquals(List.of(), first.load(0, 3));
        TopicPartition data = new TopicPartition("orders", 1);
        for (String id : List.of("committing", "open", "expired")) {
            TransactionMetadata m = new TransactionMetadata(id, id.length(), -1, (short) -1, (short) -1, 60_000,
                    TransactionState.EMPTY, -1, now);
            first.putIfAbsent(id, m);
            TransactionMetadata.Transition init;
            synchronized (first) {
                init = m.prepareIncrementProducerEpoch(60_000, null, now, new short[1]);
            }
            assertEquals(NONE, write(first, id, init));
        }
        TransactionMetadata committing = loaded(first, "committing");
        TransactionMetadata.Transition add;
        synchronized (first) {
            add = committing.prepareAddPartitions(Set.of(data), now, Features.TRANSACTION_VERSION_0);
        }
        assertEquals(NONE, write(first, "committing", add));
        TransactionMetadata.Transition prepare;
        synchronized (first) {
            prepare = committing.prepareAbortOrCommit(TransactionState.PREPARE_COMMIT, Features.TRANSACTION_VERSION_0,
                    TransactionMetadata.NO_PRODUCER_ID, now, false);
        }
        assertEquals(NONE, write(first, "committing", prepare));
        TransactionMetadata open = loaded(first, "open");
        TransactionMetadata.Transition openAdd;
        synchronized (first) {
            openAdd = open.prepareAddPartitions(Set.of(data), now, Features.TRANSACTION_VERSION_0);
        }
        assertEquals(NONE, write(first, "open", openAdd));
        TransactionMetadata.Transition dead;
        synchronized (first) {
            dead = loaded(first, "expired").prepareDead();
        }
        assertEquals(NONE, write(first, "expired", dead));
        assertNull(first.lookup("expired").found(), "a tombstone removes the id");

        // Another coordinator epoch loads the same log.
        TransactionStateManager second = manager();
        second.startLoading(0, 4);
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, second.lookup("open").error());
        List<TransactionStateManager.PendingCompletion> pending = second.load(0, 4);
        assertEquals(1, pending.size(), "only the PrepareCommit transaction needs its markers again");
        assertEquals("committing", pending.get(0).transactionalId());
        assertTrue(pending.get(0).commit());
        assertEquals(TransactionState.COMPLETE_COMMIT, pending.get(0).complete().state());
        assertEquals(4, pending.get(0).coordinatorEpoch());
        TransactionMetadata reloaded = loaded(second, "open");
        assertEquals(TransactionState.ONGOING, reloaded.state());
        assertEquals(Set.of(data), reloaded.topicPartitions());
        assertEquals(0, reloaded.producerEpoch());
        assertNull(second.lookup("expired").found());
        assertEquals(4, second.lookup("open").found().coordinatorEpoch());
    }

    @Test
    void aLoadOvertakenByANewerOneShouldInstallNothing() {
        TransactionStateManager manager = manager();
        manager.startLoading(0, 3);
        manager.startLoading(0, 4);
        assertEquals(List.of(), manager.load(0, 3));
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, manager.lookup("x").error(), "the newer load is still due");
        manager.load(0, 4);
        assertEquals(NONE, manager.lookup("x").error());
    }

    @Test
    void aLostLeadershipShouldAnswerNotCoordinatorAndFailAPendingWrite() throws Exception {
        TransactionStateManager manager = manager();
        manager.startLoading(0, 3);
        manager.load(0, 3);
        TransactionMetadata m = new TransactionMetadata("t", 7, -1, (short) -1, (short) -1, 60_000,
                TransactionState.EMPTY, -1, now);
        manager.putIfAbsent("t", m);
        assertTrue(manager.isCoordinatorFor(0, 3));
        partition.makeFollower(2, 4, List.of(1, 2));
        TransactionMetadata.Transition init;
        synchronized (manager) {
            init = m.prepareIncrementProducerEpoch(60_000, null, now, new short[1]);
        }
        assertEquals(NOT_COORDINATOR, write(manager, "t", init));
        assertEquals(NOT_COORDINATOR, manager.lookup("t").error());
        assertFalse(manager.isCoordinatorFor(0, 3));
    }

    @Test
    void onlyOngoingTransactionsPastTheirTimeoutShouldTimeOut() throws Exception {
        TransactionStateManager manager = manager();
        manager.startLoading(0, 3);
        manager.load(0, 3);
        TransactionMetadata m = new TransactionMetadata("t", 7, -1, (short) 0, (short) -1, 1_000,
                TransactionState.EMPTY, -1, now);
        manager.putIfAbsent("t", m);
        assertEquals(List.of(), manager.timedOutTransactions(now + 5_000), "nothing open");
        TransactionMetadata.Transition add;
        synchronized (manager) {
            add = m.prepareAddPartitions(Set.of(new TopicPartition("d", 0)), now, Features.TRANSACTION_VERSION_0);
        }
        assertEquals(NONE, write(manager, "t", add));
        assertEquals(List.of(), manager.timedOutTransactions(now + 1_000));
        assertEquals(List.of(m), manager.timedOutTransactions(now + 1_001));
    }
}
