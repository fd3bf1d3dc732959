package io.tandem.server.kafka.replica;

import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.TopicPartition;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The follower's fetch session with one leader, step by step as Kafka's FetchSessionHandler takes it: a full fetch,
 * incremental ones naming only what changed, partitions added and forgotten, and every way back to a full fetch.
 */
class FetchSessionHandlerTest {
    private static final TopicPartition A0 = new TopicPartition("a", 0);
    private static final TopicPartition A1 = new TopicPartition("a", 1);
    private static final TopicPartition B0 = new TopicPartition("b", 0);
    private static final int SESSION = 77;

    private final FetchSessionHandler handler = new FetchSessionHandler(1);

    private static FetchSessionHandler.PartitionState at(long offset) {
        return new FetchSessionHandler.PartitionState(offset, 0, 1 << 20, 3, 3);
    }

    private static Map<TopicPartition, FetchSessionHandler.PartitionState> wanted(Object... pairs) {
        Map<TopicPartition, FetchSessionHandler.PartitionState> map = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) map.put((TopicPartition) pairs[i], at((Long) pairs[i + 1]));
        return map;
    }

    private static FetchResponse response(int sessionId, short error, TopicPartition... partitions) {
        FetchResponse response = new FetchResponse();
        response.sessionId = sessionId;
        response.errorCode = error;
        response.responses = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            FetchResponse.FetchableTopicResponse topic = new FetchResponse.FetchableTopicResponse();
            topic.topic = tp.topic();
            topic.partitions = new ArrayList<>();
            FetchResponse.PartitionData data = new FetchResponse.PartitionData();
            data.partitionIndex = tp.partition();
            data.records = Unpooled.EMPTY_BUFFER;
            topic.partitions.add(data);
            response.responses.add(topic);
        }
        return response;
    }

    /** Runs a full fetch of A0, A1 that the leader answers with a session. */
    private void establish() {
        FetchSessionHandler.Fetch full = handler.build(wanted(A0, 10L, A1, 20L));
        assertTrue(handler.handleResponse(full, response(SESSION, NONE, A0, A1)));
    }

    @Test
    void shouldStartWithAFullFetchAndThenNameOnlyChangedPartitions() {
        FetchSessionHandler.Fetch full = handler.build(wanted(A0, 10L, A1, 20L));
        assertTrue(full.full());
        assertEquals(0, full.sessionId());
        assertEquals(List.of(A0, A1), List.copyOf(full.toSend().keySet()));
        assertTrue(handler.handleResponse(full, response(SESSION, NONE, A0, A1)));
        assertEquals(SESSION, handler.sessionId());
        assertEquals(1, handler.nextEpoch());

        FetchSessionHandler.Fetch same = handler.build(wanted(A0, 10L, A1, 20L));
        assertFalse(same.full());
        assertEquals(SESSION, same.sessionId());
        assertEquals(1, same.epoch());
        assertTrue(same.toSend().isEmpty(), "nothing changed: nothing named");
        assertTrue(same.toForget().isEmpty());
        assertEquals(2, same.sessionPartitions().size());
        // An incremental answer names only partitions with news.
        assertTrue(handler.handleResponse(same, response(SESSION, NONE, A1)));

        FetchSessionHandler.Fetch moved = handler.build(wanted(A0, 10L, A1, 25L));
        assertEquals(2, moved.epoch());
        assertEquals(Map.of(A1, at(25)), moved.toSend());
        assertTrue(handler.handleResponse(moved, response(SESSION, NONE)));
        assertEquals(3, handler.nextEpoch());

        FetchRequest request = FollowerFetch.request(2, handler.build(wanted(A0, 11L, A1, 25L)), 500, 1 << 20);
        assertEquals(SESSION, request.sessionId);
        assertEquals(3, request.sessionEpoch);
        assertEquals(2, request.replicaId);
        assertEquals(1, request.topics.size());
        assertEquals(11, request.topics.get(0).partitions.get(0).fetchOffset);
        assertEquals(3, request.topics.get(0).partitions.get(0).lastFetchedEpoch);
    }

    @Test
    void shouldAddNewPartitionsAndForgetDroppedOnes() {
        establish();
        FetchSessionHandler.Fetch changed = handler.build(wanted(A1, 20L, B0, 0L));
        assertEquals(List.of(B0), List.copyOf(changed.toSend().keySet()), "only the new partition is named");
        assertEquals(List.of(A0), changed.toForget());
        assertEquals(List.of(A1, B0), List.copyOf(changed.sessionPartitions().keySet()));
        FetchRequest request = FollowerFetch.request(2, changed, 500, 1 << 20);
        assertEquals("a", request.forgottenTopicsData.get(0).topic);
        assertEquals(List.of(0), request.forgottenTopicsData.get(0).partitions);
        assertTrue(handler.handleResponse(changed, response(SESSION, NONE, B0)));

        // Everything dropped: one more fetch forgets the rest, and the leader closes the session.
        FetchSessionHandler.Fetch last = handler.build(Map.of());
        assertFalse(last.empty());
        assertEquals(List.of(A1, B0), last.toForget());
        assertFalse(handler.hasPartitions());
        assertTrue(handler.handleResponse(last, response(0, NONE)));
        assertEquals(0, handler.sessionId());
        assertEquals(0, handler.nextEpoch());
        assertTrue(handler.build(Map.of()).empty(), "no session, no partitions: no request");
    }

    @Test
    void shouldStartAFreshSessionWhenTheLeaderForgotIt() {
        establish();
        FetchSessionHandler.Fetch incremental = handler.build(wanted(A0, 10L, A1, 20L));
        assertFalse(handler.handleResponse(incremental, response(0, FETCH_SESSION_ID_NOT_FOUND)));
        FetchSessionHandler.Fetch full = handler.build(wanted(A0, 10L, A1, 20L));
        assertTrue(full.full());
        assertEquals(0, full.sessionId(), "an unknown session is not named again");
        assertEquals(List.of(A0, A1), List.copyOf(full.toSend().keySet()), "a full fetch names every partition");
    }

    @Test
    void shouldCloseTheOldSessionWithAFullFetchAfterAWrongEpochOrALostAnswer() throws Exception {
        establish();
        FetchSessionHandler.Fetch incremental = handler.build(wanted(A0, 10L, A1, 20L));
        assertFalse(handler.handleResponse(incremental, response(0, INVALID_FETCH_SESSION_EPOCH)));
        FetchSessionHandler.Fetch full = handler.build(wanted(A0, 10L, A1, 20L));
        assertTrue(full.full());
        assertEquals(SESSION, full.sessionId(), "the full fetch names the session so the leader closes it");
        assertTrue(handler.handleResponse(full, response(SESSION + 1, NONE, A0, A1)));

        handler.build(wanted(A0, 12L, A1, 20L));
        handler.handleError(new IOException("connection reset"));
        FetchSessionHandler.Fetch again = handler.build(wanted(A0, 12L, A1, 20L));
        assertTrue(again.full());
        assertEquals(SESSION + 1, again.sessionId());
        assertEquals(2, again.toSend().size());
    }

    @Test
    void shouldRefuseAnswersThatDoNotFitTheSession() {
        FetchSessionHandler.Fetch full = handler.build(wanted(A0, 10L, A1, 20L));
        assertFalse(handler.handleResponse(full, response(SESSION, NONE, A0)), "a full answer missing a partition");
        assertEquals(0, handler.sessionId());
        establish();
        FetchSessionHandler.Fetch incremental = handler.build(wanted(A0, 10L, A1, 20L));
        assertFalse(handler.handleResponse(incremental, response(SESSION, NONE, B0)), "a partition outside the session");
        assertTrue(handler.build(wanted(A0, 10L, A1, 20L)).full());
    }

    @Test
    void shouldKeepFetchingFullWhenTheLeaderGivesNoSession() {
        FetchSessionHandler.Fetch full = handler.build(wanted(A0, 10L));
        assertTrue(handler.handleResponse(full, response(0, NONE, A0)));
        assertTrue(handler.build(wanted(A0, 10L)).full());
        FetchSessionHandler.Stats stats = handler.stats();
        assertEquals(2, stats.fullFetches());
        assertEquals(0, stats.incrementalFetches());
    }
}
