package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.ListOffsetsRequest;
import io.tandem.kafka.wire.message.ListOffsetsResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ListOffsets v4+ carries the client's current leader epoch, and the leader checks it as it checks a Fetch's
 * (Kafka's Partition.localLogWithEpochOrThrow, the same rule as {@code LeaderFetch.epochError}): older is
 * FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH, -1 no check; an error answer carries offset and timestamp -1, as
 * Kafka's buildErrorResponse. A single broker keeps its partitions' epoch across a restart (as Kafka's does), so the
 * fenced side is the Fetch tests' (the shared rule); here the newer side shows ListOffsets applies it.
 */
class ListOffsetsLeaderEpochTest {
    @TempDir
    Path dir;

    @Test
    void shouldRefuseAnEpochTheLeaderHasNotSeen() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("epochs", 1, (short) 1))).all().get(60, TimeUnit.SECONDS);
            }
            try (RawKafkaConnection c = new RawKafkaConnection(tandem.kafkaPort())) {
                ListOffsetsResponse.ListOffsetsPartitionResponse unchecked = latest(c, -1);
                assertEquals(Errors.NONE.code(), unchecked.errorCode);
                int first = unchecked.leaderEpoch;
                assertEquals(Errors.NONE.code(), latest(c, first).errorCode, "the leader's own epoch");
                ListOffsetsResponse.ListOffsetsPartitionResponse ahead = latest(c, first + 1);
                assertEquals(Errors.UNKNOWN_LEADER_EPOCH.code(), ahead.errorCode, "an epoch this leader has not seen");
                assertEquals(-1, ahead.offset);
                assertEquals(-1, ahead.timestamp);
            }
        }
    }

    /** ListOffsets v7 for the latest offset of partition 0 of "epochs", at {@code currentLeaderEpoch}. */
    private static ListOffsetsResponse.ListOffsetsPartitionResponse latest(RawKafkaConnection c, int currentLeaderEpoch)
            throws Exception {
        ListOffsetsRequest request = TestRequests.latestOffsetRequest("epochs");
        request.topics.get(0).partitions.get(0).currentLeaderEpoch = currentLeaderEpoch;
        ListOffsetsResponse response = c.roundTrip(ApiKey.LIST_OFFSETS, (short) 7, (short) 1, request,
                ListOffsetsResponse::read);
        return response.topics.get(0).partitions.get(0);
    }
}
