package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.DescribeGroupsRequest;
import org.apache.kafka.common.requests.DescribeGroupsResponse;
import org.apache.kafka.common.requests.JoinGroupRequest;
import org.apache.kafka.common.requests.JoinGroupResponse;
import org.apache.kafka.common.requests.SyncGroupRequest;
import org.apache.kafka.common.requests.SyncGroupResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
                // v3: the broker assigns the member id on the first join (no MEMBER_ID_REQUIRED round trip).
                JoinGroupResponse join = c.call(new JoinGroupRequest.Builder(new JoinGroupRequestData()
                        .setGroupId("g").setMemberId("").setProtocolType("consumer")
                        .setSessionTimeoutMs(SESSION_TIMEOUT_MS).setRebalanceTimeoutMs(SESSION_TIMEOUT_MS)
                        .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                                new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                        .setMetadata(new byte[0])).iterator()))).build((short) 3));
                assertEquals(Errors.NONE.code(), join.data().errorCode());
                String member = join.data().memberId();
                SyncGroupResponse sync = c.call(new SyncGroupRequest.Builder(new SyncGroupRequestData()
                        .setGroupId("g").setMemberId(member).setGenerationId(join.data().generationId())
                        .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment()
                                .setMemberId(member).setAssignment(new byte[0])))).build((short) 1));
                assertEquals(Errors.NONE.code(), sync.data().errorCode());
                long lastHeard = System.currentTimeMillis();

                // No heartbeat from here on: the member must go once its session times out.
                long gone = -1;
                while (System.currentTimeMillis() - lastHeard < COMPACTION_STALL_MS) {
                    DescribeGroupsResponse described = c.call(new DescribeGroupsRequest.Builder(
                            new DescribeGroupsRequestData().setGroups(List.of("g"))).build((short) 0));
                    if (described.data().groups().get(0).members().isEmpty()) {
                        gone = System.currentTimeMillis() - lastHeard;
                        assertTrue(stalled.get(), "the compaction pass was still stalled when the member went");
                        break;
                    }
                    Thread.sleep(20);
                }
                assertTrue(gone >= 0 && gone <= SESSION_TIMEOUT_MS + EXPIRY_MARGIN_MS,
                        "the member expired " + gone + " ms after it was last heard of (session timeout "
                                + SESSION_TIMEOUT_MS + " ms), though compaction was stalled");
            } finally {
                stopStalling.countDown();
            }
        }
    }
}
