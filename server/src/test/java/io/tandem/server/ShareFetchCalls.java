package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.OfficialClientConnection;
import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareFetchRequestData;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ShareFetchRequest;
import org.apache.kafka.common.requests.ShareFetchResponse;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;

/**
 * The share-group requests the share-session tests send by hand (the official client's request classes over one
 * connection): a member of group "g" subscribed to "queue" joins, and fetches partition 0 of a topic.
 */
final class ShareFetchCalls {
    private ShareFetchCalls() {
    }

    /**
     * ShareGroupHeartbeat at epoch 0 for {@code member}, after FindCoordinator names the group's coordinator, as a
     * share consumer does (the first lookup creates {@code __consumer_offsets}); fails the test unless it is accepted.
     */
    static void join(OfficialClientConnection c, String member) throws Exception {
        GroupCoordinators.await(c, "g");
        ShareGroupHeartbeatResponse r = c.call(new ShareGroupHeartbeatRequest.Builder(new ShareGroupHeartbeatRequestData()
                .setGroupId("g").setMemberId(member).setMemberEpoch(0).setSubscribedTopicNames(List.of("queue")))
                .build((short) 1));
        assertEquals(Errors.NONE.code(), r.data().errorCode());
        // As Kafka 4.4, the heartbeat is answered before the group coordinator has initialized the topic's
        // share-partition, and a share consumer fetches only once it is assigned, so after that initialization:
        // wait for it (DescribeShareGroupOffsets lists initialized share-partitions) before fetching as one.
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
        while (true) {
            org.apache.kafka.common.requests.DescribeShareGroupOffsetsResponse offsets = c.call(
                    new org.apache.kafka.common.requests.DescribeShareGroupOffsetsRequest.Builder(
                            new org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData().setGroups(
                                    List.of(new org.apache.kafka.common.message.DescribeShareGroupOffsetsRequestData
                                            .DescribeShareGroupOffsetsRequestGroup().setGroupId("g")
                                            .setTopics(null)))).build((short) 1));
            if (offsets.data().groups().get(0).topics().stream()
                    .anyMatch(t -> t.topicName().equals("queue") && !t.partitions().isEmpty())) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, "the group's share-partition was never initialized");
            Thread.sleep(20);
        }
    }

    /** ShareFetch v2 of partition 0 at the share session's {@code epoch}; an empty answer when nothing came. */
    static ShareFetchResponseData.PartitionData fetch(OfficialClientConnection c, String member, int epoch,
                                                      int maxWaitMs, Uuid topicId) throws Exception {
        ShareFetchRequestData data = new ShareFetchRequestData().setGroupId("g").setMemberId(member)
                .setShareSessionEpoch(epoch).setMaxWaitMs(maxWaitMs).setMinBytes(1).setMaxBytes(1 << 20)
                .setMaxRecords(100).setBatchSize(100);
        ShareFetchRequestData.FetchTopic topic = new ShareFetchRequestData.FetchTopic().setTopicId(topicId);
        topic.partitions().add(new ShareFetchRequestData.FetchPartition().setPartitionIndex(0));
        data.topics().add(topic);
        ShareFetchResponse r = c.call(new ShareFetchRequest.Builder(data).build((short) 2));
        assertEquals(Errors.NONE.code(), r.data().errorCode());
        if (r.data().responses().isEmpty()) return new ShareFetchResponseData.PartitionData();
        return r.data().responses().iterator().next().partitions().get(0);
    }
}
