package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker's periodic jobs cannot delay each other (issue 12.3): while the log cleaner is stuck in a long
 * compaction pass, a consumer group member that stops heartbeating is still expired within its session timeout plus
 * a small margin, as on Apache Kafka, whose group coordinator timers never wait for the log cleaner.
 */
class GroupTimersBesideCompactionTest {
    private static final int SESSION_TIMEOUT_MS = 1_000;
    /** Generous for a loaded 2-core machine, and far below the stalled compaction below. */
    private static final long EXPIRY_MARGIN_MS = 2_000;
    private static final long COMPACTION_STALL_MS = 15_000;

    @TempDir
    Path dir;

    @Test
    void shouldExpireAMemberOnTimeWhileACompactionPassIsSlow() throws Exception {
        TandemConfig config = TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("log.retention.check.interval.ms", "100")
                .set("log.cleaner.backoff.ms", "100")
                .set("group.min.session.timeout.ms", "500")
                .set("group.initial.rebalance.delay.ms", "0");
        CountDownLatch compacting = new CountDownLatch(1);
        CountDownLatch stopStalling = new CountDownLatch(1);
        AtomicBoolean stalled = new AtomicBoolean();
        try (KafkaBroker broker = KafkaBroker.start(config, null)) {
            broker.logs().beforeEachCompaction(tp -> {
                stalled.set(true);
                compacting.countDown();
                try {
                    stopStalling.await(COMPACTION_STALL_MS, TimeUnit.MILLISECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    stalled.set(false);
                }
            });
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    "127.0.0.1:" + broker.port()))) {
                admin.createTopics(List.of(new NewTopic("compacted", 1, (short) 1)
                        .configs(Map.of("cleanup.policy", "compact")))).all().get();
            }
            assertTrue(compacting.await(10, TimeUnit.SECONDS), "the cleaner started its (stalled) pass");

            try (OfficialClientConnection c = new OfficialClientConnection(broker.port())) {
                GroupCoordinators.await(c, "g");
                long lastHeard = GroupMemberExpiry.joinAndSync(c, "g", SESSION_TIMEOUT_MS);
                // No heartbeat from here on: the member must go once its session times out.
                long gone = GroupMemberExpiry.msUntilGone(c, "g", lastHeard, COMPACTION_STALL_MS);
                if (gone >= 0) assertTrue(stalled.get(), "the compaction pass was still stalled when the member went");
                assertTrue(gone >= 0 && gone <= SESSION_TIMEOUT_MS + EXPIRY_MARGIN_MS,
                        "the member expired " + gone + " ms after it was last heard of (session timeout "
                                + SESSION_TIMEOUT_MS + " ms), though compaction was stalled");
            } finally {
                stopStalling.countDown();
            }
        }
    }
}
