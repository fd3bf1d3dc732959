package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.message.FetchRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

class FetchSessionsTest {
    private static final short VERSION = 12;
    private final FetchSessions sessions = new FetchSessions(1000);
    private long now = 1_000_000;

    private static FetchRequest request(int sessionId, int epoch, String topic, int... partitions) {
        FetchRequest request = new FetchRequest();
        request.replicaId = -1;
        request.sessionId = sessionId;
        request.sessionEpoch = epoch;
        request.topics = new ArrayList<>();
        request.forgottenTopicsData = new ArrayList<>();
        if (partitions.length > 0) {
            FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
            t.topic = topic;
            t.partitions = new ArrayList<>();
            for (int p : partitions) {
                FetchRequest.FetchPartition fp = new FetchRequest.FetchPartition();
                fp.partition = p;
                fp.fetchOffset = 10 * p;
                t.partitions.add(fp);
            }
            request.topics.add(t);
        }
        return request;
    }

    private static List<Integer> partitions(FetchSessions.Resolution r) {
        List<Integer> list = new ArrayList<>();
        for (FetchRequest.FetchTopic t : r.topics()) for (FetchRequest.FetchPartition p : t.partitions) list.add(p.partition);
        return list;
    }

    @Test
    void shouldCreateASessionAndServeItsPartitionsToIncrementalRequests() {
        FetchSessions.Resolution full = sessions.resolve(request(0, 0, "t", 0, 1), VERSION, now);
        assertEquals(NONE, full.error());
        assertNotEquals(0, full.sessionId());
        assertFalse(full.incremental());

        FetchSessions.Resolution next = sessions.resolve(request(full.sessionId(), 1, "t"), VERSION, now);
        assertEquals(NONE, next.error());
        assertTrue(next.incremental());
        assertEquals(List.of(0, 1), partitions(next), "an empty incremental request still fetches the session");

        FetchRequest forget = request(full.sessionId(), 2, "t", 2);
        FetchRequest.ForgottenTopic forgotten = new FetchRequest.ForgottenTopic();
        forgotten.topic = "t";
        forgotten.partitions = new ArrayList<>(List.of(0));
        forget.forgottenTopicsData.add(forgotten);
        assertEquals(List.of(1, 2), partitions(sessions.resolve(forget, VERSION, now)));
    }

    @Test
    void shouldRejectWrongEpochsAndUnknownSessions() {
        FetchSessions.Resolution full = sessions.resolve(request(0, 0, "t", 0), VERSION, now);
        assertEquals(INVALID_FETCH_SESSION_EPOCH, sessions.resolve(request(full.sessionId(), 5, "t"), VERSION, now).error());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, sessions.resolve(request(12345, 1, "t"), VERSION, now).error());
        // Closing the session (final epoch) makes it unknown afterwards.
        assertEquals(0, sessions.resolve(request(full.sessionId(), -1, "t", 0), VERSION, now).sessionId());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, sessions.resolve(request(full.sessionId(), 1, "t"), VERSION, now).error());
    }

    @Test
    void shouldServeSessionlessFullFetchesAsTheyCome() {
        FetchSessions.Resolution r = sessions.resolve(request(0, -1, "t", 3), VERSION, now);
        assertEquals(0, r.sessionId());
        assertEquals(List.of(3), partitions(r));
    }

    @Test
    void shouldGiveNoSessionWhenEverySlotHoldsARecentSession() {
        FetchSessions two = new FetchSessions(2);
        int first = two.resolve(request(0, 0, "t", 0), VERSION, now).sessionId();
        int second = two.resolve(request(0, 0, "t", 1), VERSION, now).sessionId();
        assertNotEquals(0, first);
        assertNotEquals(0, second);
        now += FetchSessions.EVICTION_MS;
        FetchSessions.Resolution third = two.resolve(request(0, 0, "t", 0, 1, 2), VERSION, now);
        assertEquals(NONE, third.error());
        assertEquals(0, third.sessionId(), "served as a session-less full fetch");
        assertEquals(List.of(0, 1, 2), partitions(third));
        assertEquals(NONE, two.resolve(request(first, 1, "t"), VERSION, now).error(), "the cached sessions survive");
        assertEquals(0, two.evictions());
        assertEquals(NONE, two.resolve(request(second, 1, "t"), VERSION, now).error());
    }

    @Test
    void shouldLetANewSessionTakeTheSlotOfOneUnusedForTheEvictionTime() {
        FetchSessions two = new FetchSessions(2);
        int stale = two.resolve(request(0, 0, "t", 0, 1, 2), VERSION, now).sessionId();
        now += 1_000;
        int used = two.resolve(request(0, 0, "t", 1), VERSION, now).sessionId();
        now += FetchSessions.EVICTION_MS;
        assertEquals(NONE, two.resolve(request(used, 1, "t"), VERSION, now).error());
        now += 1_000;
        assertNotEquals(0, two.resolve(request(0, 0, "t", 3), VERSION, now).sessionId(), "even a smaller one");
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, two.resolve(request(stale, 1, "t"), VERSION, now).error());
        assertEquals(NONE, two.resolve(request(used, 2, "t"), VERSION, now).error());
        assertEquals(1, two.evictions(), "the stale session's eviction is counted");
    }

    @Test
    void shouldLetOnlyALargerSessionEvictTheSmallestOneOlderThanTheEvictionTime() {
        FetchSessions two = new FetchSessions(2);
        int small = two.resolve(request(0, 0, "t", 0), VERSION, now).sessionId();
        int big = two.resolve(request(0, 0, "t", 0, 1, 2), VERSION, now).sessionId();
        now += FetchSessions.EVICTION_MS + 1;
        // Both are in use, so neither is stale; both are old enough to be evicted by a larger newcomer.
        assertEquals(NONE, two.resolve(request(small, 1, "t"), VERSION, now).error());
        assertEquals(NONE, two.resolve(request(big, 1, "t"), VERSION, now).error());
        assertEquals(0, two.resolve(request(0, 0, "t", 5), VERSION, now).sessionId(), "not larger than the smallest");
        assertEquals(0, two.evictions(), "no session was evicted for it");
        assertNotEquals(0, two.resolve(request(0, 0, "t", 5, 6), VERSION, now).sessionId());
        assertEquals(1, two.evictions());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, two.resolve(request(small, 2, "t"), VERSION, now).error());
        assertEquals(NONE, two.resolve(request(big, 2, "t"), VERSION, now).error());
    }

    @Test
    void shouldCapThePartitionsOfAllSessionsTogether() {
        FetchSessions capped = new FetchSessions(10, 4);
        int a = capped.resolve(request(0, 0, "t", 0, 1, 2), VERSION, now).sessionId();
        assertNotEquals(0, a);
        assertEquals(0, capped.resolve(request(0, 0, "u", 0, 1), VERSION, now).sessionId(),
                "a session past the cap is not created");
        assertEquals(NONE, capped.resolve(request(a, 1, "t", 3), VERSION, now).error(), "up to the cap");
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, capped.resolve(request(a, 2, "t", 4), VERSION, now).error(),
                "a session growing past the cap is dropped: its client starts over");
        assertEquals(0, capped.sessionCount());
        assertEquals(0, capped.cachedPartitions());
    }

    @Test
    void shouldForgetATopicWithItsLastPartitionAndDropASessionLeftEmpty() {
        FetchSessions.Resolution full = sessions.resolve(request(0, 0, "t", 0), VERSION, now);
        for (int i = 1; i <= 100; i++) {
            FetchRequest churn = request(full.sessionId(), i, "topic-" + i, 0);
            FetchRequest.ForgottenTopic forgotten = new FetchRequest.ForgottenTopic();
            forgotten.topic = "topic-" + i;
            forgotten.partitions = new ArrayList<>(List.of(0));
            churn.forgottenTopicsData.add(forgotten);
            assertEquals(NONE, sessions.resolve(churn, VERSION, now).error());
        }
        assertEquals(1, full.session().topics.size(), "topics added and forgotten leave nothing behind");
        FetchRequest forgetAll = request(full.sessionId(), 101, "t");
        FetchRequest.ForgottenTopic forgotten = new FetchRequest.ForgottenTopic();
        forgotten.topic = "t";
        forgotten.partitions = new ArrayList<>(List.of(0));
        forgetAll.forgottenTopicsData.add(forgotten);
        assertEquals(0, sessions.resolve(forgetAll, VERSION, now).sessionId());
        assertEquals(0, sessions.sessionCount());
    }

    @Test
    void shouldCloseTheSessionAFullFetchNames() {
        int id = sessions.resolve(request(0, 0, "t", 0), VERSION, now).sessionId();
        FetchSessions.Resolution again = sessions.resolve(request(id, 0, "t", 1), VERSION, now);
        assertNotEquals(id, again.sessionId());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, sessions.resolve(request(id, 1, "t"), VERSION, now).error());
        assertEquals(1, sessions.sessionCount());
        assertEquals(0, sessions.evictions(), "a session its client closes is not evicted");
    }

    private static FetchRequest followerRequest(int sessionId, int epoch, String topic, int... partitions) {
        FetchRequest request = request(sessionId, epoch, topic, partitions);
        request.replicaId = 2;
        return request;
    }

    @Test
    void shouldGiveFollowersSessionsInTheSameCache() {
        FetchSessions.Resolution full = sessions.resolve(followerRequest(0, 0, "t", 0, 1), VERSION, now);
        assertNotEquals(0, full.sessionId(), "a replica fetch gets a session, as Kafka's FetchManager gives it");
        assertTrue(full.session().privileged);
        FetchSessions.Resolution next = sessions.resolve(followerRequest(full.sessionId(), 1, "t"), VERSION, now);
        assertTrue(next.incremental());
        assertEquals(List.of(0, 1), partitions(next));
        // From v15 the replica id travels in the replica state.
        FetchRequest v15 = request(0, 0, "t", 0);
        v15.replicaState.replicaId = 3;
        assertTrue(sessions.resolve(v15, (short) 15, now).session().privileged);
    }

    @Test
    void shouldLetAFollowerEvictAYoungConsumerSessionButNotTheReverse() {
        FetchSessions two = new FetchSessions(2);
        int consumer = two.resolve(request(0, 0, "t", 0, 1, 2, 3), VERSION, now).sessionId();
        int follower = two.resolve(followerRequest(0, 0, "t", 0), VERSION, now).sessionId();
        now += 1_000;
        int secondFollower = two.resolve(followerRequest(0, 0, "t", 1), VERSION, now).sessionId();
        assertNotEquals(0, secondFollower, "a follower takes the slot of a consumer, however young and large");
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, two.resolve(request(consumer, 1, "t"), VERSION, now).error());
        assertEquals(1, two.evictions());
        assertEquals(0, two.resolve(request(0, 0, "t", 0, 1, 2, 3, 4, 5), VERSION, now).sessionId(),
                "a consumer never evicts a young follower session, however large it is");
        assertEquals(0, two.resolve(followerRequest(0, 0, "t", 0, 1, 2), VERSION, now).sessionId(),
                "nor does a follower, while the follower sessions are young");
        assertEquals(NONE, two.resolve(followerRequest(follower, 1, "t"), VERSION, now).error());
        assertEquals(NONE, two.resolve(followerRequest(secondFollower, 1, "t"), VERSION, now).error());
    }

    @Test
    void shouldLetALargerFollowerSessionEvictAnOldFollowerSession() {
        FetchSessions one = new FetchSessions(1);
        int old = one.resolve(followerRequest(0, 0, "t", 0), VERSION, now).sessionId();
        now += FetchSessions.EVICTION_MS + 1;
        assertEquals(NONE, one.resolve(followerRequest(old, 1, "t"), VERSION, now).error(), "used: not stale, but old");
        assertEquals(0, one.resolve(request(0, 0, "t", 0, 1, 2), VERSION, now).sessionId(),
                "a consumer never evicts a follower that is in use");
        assertNotEquals(0, one.resolve(followerRequest(0, 0, "t", 0, 1), VERSION, now).sessionId());
        assertEquals(FETCH_SESSION_ID_NOT_FOUND, one.resolve(followerRequest(old, 2, "t"), VERSION, now).error());
    }

    @Test
    void shouldRefuseASessionUsedAcrossTheTopicIdLine() {
        int id = sessions.resolve(request(0, 0, "t", 0), VERSION, now).sessionId();
        FetchRequest withIds = request(id, 1, "t");
        assertEquals(FETCH_SESSION_TOPIC_ID_ERROR, sessions.resolve(withIds, (short) 13, now).error());
        assertEquals(NONE, sessions.resolve(request(id, 1, "t"), VERSION, now).error(), "the session is kept");
    }

    @Test
    void shouldServeAnsweredPartitionsLastOnTheNextIncrementalFetch() {
        FetchSessions.Resolution full = sessions.resolve(request(0, 0, "t", 0, 1, 2), VERSION, now);
        sessions.moveToEnd(full.session(), List.of(FetchSessions.partitionKey("t", 0)));
        assertEquals(List.of(1, 2, 0), partitions(sessions.resolve(request(full.sessionId(), 1, "t"), VERSION, now)),
                "the partition answered last time waits behind the others (Kafka's round robin under max.bytes)");
    }

    private static io.tandem.kafka.wire.message.FetchResponse.PartitionData quiet(int partition) {
        io.tandem.kafka.wire.message.FetchResponse.PartitionData data = new io.tandem.kafka.wire.message.FetchResponse.PartitionData();
        data.partitionIndex = partition;
        data.highWatermark = 30;
        data.logStartOffset = 0;
        data.records = io.netty.buffer.Unpooled.EMPTY_BUFFER;
        return data;
    }

    @Test
    void shouldAnswerAnIncrementalFetchOnlyWithNewsAndAlwaysWithADivergingEpoch() {
        FetchSessions.Resolution full = sessions.resolve(followerRequest(0, 0, "t", 0, 1), VERSION, now);
        String p0 = FetchSessions.partitionKey("t", 0);
        String p1 = FetchSessions.partitionKey("t", 1);
        assertTrue(FetchSessions.answers(full, p0, quiet(0), false), "a full answer carries every partition");
        assertTrue(FetchSessions.answers(full, p1, quiet(1), false));
        FetchSessions.Resolution next = sessions.resolve(followerRequest(full.sessionId(), 1, "t"), VERSION, now);
        assertFalse(FetchSessions.answers(next, p0, quiet(0), false), "nothing new: left out");
        assertTrue(FetchSessions.answers(next, p1, quiet(1), true),
                "a follower told to truncate must hear it, though its watermarks did not move");
        io.tandem.kafka.wire.message.FetchResponse.PartitionData moved = quiet(0);
        moved.highWatermark = 31;
        assertTrue(FetchSessions.answers(next, p0, moved, false), "a moved high watermark is news");
    }
}
