package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.LeakWatch;
import io.tandem.server.kafka.network.RequestDropped;
import io.tandem.server.kafka.network.Responder;
import io.tandem.server.kafka.txn.TransactionService;
import io.tandem.storage.log.LogSlice;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Produce or TxnOffsetCommit whose transaction the coordinator verified goes on on a request handler thread
 * ({@link KafkaBroker#continueOnRequestHandler}); a Produce answered CONCURRENT_TRANSACTIONS asks again after a backoff
 * on the transaction coordinator's thread ({@link TransactionService#schedule}). Both hold the request's frame (a
 * pooled buffer) meanwhile. When the broker stops first, the request is given up through its responder
 * ({@link RequestDropped}), whose {@code fail} releases the frame, as the broker's connection responder does: Netty's
 * leak detector, paranoid for the test, reports a frame that was not. Before the fix the continuation refused by the
 * stopped handler pool, and the retry dropped by the coordinator's stopped scheduler, were dropped silently.
 */
class DroppedContinuationsLeakTest {
    @TempDir
    Path dir;

    /** Stands for a request's connection responder: holds a pooled frame, released when the request ends. */
    private static final class HeldFrame implements Responder {
        final ByteBuf frame = PooledByteBufAllocator.DEFAULT.directBuffer(512).writeZero(512);
        final AtomicReference<Throwable> failed = new AtomicReference<>();

        @Override
        public void send(ApiMessage response) {
            frame.release();
        }

        @Override
        public void sendWithFileRecords(ApiMessage response, List<LogSlice> slices) {
            frame.release();
        }

        @Override
        public void noResponse() {
            frame.release();
        }

        @Override
        public void fail(Throwable cause) {
            failed.set(cause);
            frame.release();
        }
    }

    @Test
    void continuationsAndRetriesDroppedAtStopShouldReleaseTheirFrames() throws Exception {
        try (LeakWatch watch = new LeakWatch()) {
            HeldFrame retried = new HeldFrame();
            HeldFrame continued = new HeldFrame();
            AtomicBoolean ran = new AtomicBoolean();
            TandemCluster cluster = TandemCluster.start(dir, 1, c -> c);
            KafkaBroker broker;
            try {
                broker = cluster.broker(1).kafkaBroker();
                // A Produce's next AddPartitionsToTxn round, due long after the broker stops.
                broker.transactions().schedule(() -> ran.set(true), 600_000,
                        () -> retried.fail(RequestDropped.BROKER_STOPPING));
            } finally {
                cluster.close();
            }
            // The coordinator's answer came as the broker stopped: its request handlers take nothing any more.
            broker.continueOnRequestHandler(() -> ran.set(true), continued);

            assertTrue(!ran.get(), "nothing ran after the stop");
            assertSame(RequestDropped.BROKER_STOPPING, retried.failed.get(), "the retry's request was given up");
            assertSame(RequestDropped.BROKER_STOPPING, continued.failed.get(),
                    "the continuation's request was given up");
            assertEquals(0, retried.frame.refCnt());
            assertEquals(0, continued.frame.refCnt());
            watch.assertNoLeaks();
        }
    }
}
