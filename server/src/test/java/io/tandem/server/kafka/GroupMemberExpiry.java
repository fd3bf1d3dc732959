package io.tandem.server.kafka;

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

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The group timer tests' probe: one classic member joins and syncs (then never heartbeats), and the test watches how
 * long after it was last heard DescribeGroups stops listing it, i.e. when the broker's group timer expired it.
 */
final class GroupMemberExpiry {
    private GroupMemberExpiry() {
    }

    /**
     * Joins one member to {@code groupId} (JoinGroup v3: the broker hands out the member id at once) and syncs it, so
     * the group is Stable; returns when it was last heard from (System.currentTimeMillis, after the SyncGroup).
     */
    static long joinAndSync(OfficialClientConnection c, String groupId, int sessionTimeoutMs) throws Exception {
        JoinGroupResponse join = c.call(new JoinGroupRequest.Builder(new JoinGroupRequestData()
                .setGroupId(groupId).setMemberId("").setProtocolType("consumer")
                .setSessionTimeoutMs(sessionTimeoutMs).setRebalanceTimeoutMs(sessionTimeoutMs)
                .setProtocols(new JoinGroupRequestData.JoinGroupRequestProtocolCollection(List.of(
                        new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range")
                                .setMetadata(new byte[0])).iterator()))).build((short) 3));
        assertEquals(Errors.NONE.code(), join.data().errorCode());
        String member = join.data().memberId();
        SyncGroupResponse sync = c.call(new SyncGroupRequest.Builder(new SyncGroupRequestData()
                .setGroupId(groupId).setMemberId(member).setGenerationId(join.data().generationId())
                .setAssignments(List.of(new SyncGroupRequestData.SyncGroupRequestAssignment()
                        .setMemberId(member).setAssignment(new byte[0])))).build((short) 1));
        assertEquals(Errors.NONE.code(), sync.data().errorCode());
        return System.currentTimeMillis();
    }

    /**
     * Polls DescribeGroups every 20 ms until the group has no member; returns how long after {@code lastHeardMs} that
     * was, or -1 if it still had one {@code waitMs} after it.
     */
    static long msUntilGone(OfficialClientConnection c, String groupId, long lastHeardMs, long waitMs)
            throws Exception {
        while (System.currentTimeMillis() - lastHeardMs < waitMs) {
            DescribeGroupsResponse described = c.call(new DescribeGroupsRequest.Builder(
                    new DescribeGroupsRequestData().setGroups(List.of(groupId))).build((short) 0));
            if (described.data().groups().get(0).members().isEmpty()) {
                return System.currentTimeMillis() - lastHeardMs;
            }
            Thread.sleep(20);
        }
        return -1;
    }
}
